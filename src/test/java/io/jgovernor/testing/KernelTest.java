package io.jgovernor.testing;

import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a kernel test class and hands each test method a fresh {@link TestCgroups} as a
 * parameter, closed after the test whatever its outcome:
 *
 * <pre>{@code
 * @KernelTest
 * class MyKernelTest {
 *     @Test
 *     void something(TestCgroups cg) throws Exception { ... }
 * }
 * }</pre>
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@ExtendWith(KernelTest.Extension.class)
public @interface KernelTest {
    final class Extension implements ParameterResolver, AfterEachCallback {
        private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(KernelTest.class);

        @Override
        public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
            return parameter.getParameter().getType() == TestCgroups.class;
        }

        @Override
        public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
            ExtensionContext.Store store = context.getStore(NAMESPACE);
            TestCgroups cg = store.get(TestCgroups.class, TestCgroups.class);
            if (cg == null) {
                cg = TestCgroups.create();
                store.put(TestCgroups.class, cg);
            }
            return cg;
        }

        @Override
        public void afterEach(ExtensionContext context) {
            TestCgroups cg = context.getStore(NAMESPACE).remove(TestCgroups.class, TestCgroups.class);
            if (cg != null) {
                cg.close();
            }
        }
    }
}
