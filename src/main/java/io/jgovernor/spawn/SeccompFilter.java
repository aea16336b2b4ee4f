package io.jgovernor.spawn;

import io.jgovernor.model.SeccompProfile;

/**
 * A seccomp profile in the line format the exec stage reads on its stdin (documented at the top
 * of jgovernor-exec.c): one word per field, no quoting, nothing for the C side to parse but
 * words and unsigned decimal numbers.
 *
 * <pre>
 * default errno 1
 * arch x86_64
 * rule allow read
 * rule allow clone 0 masked_eq 2114060288 0
 * rule errno 38 clone3
 * </pre>
 */
final class SeccompFilter {
    private SeccompFilter() {
    }

    static String lines(SeccompProfile p) {
        StringBuilder b = new StringBuilder();
        b.append("default ").append(p.defaultAction().text()).append('\n');
        for (String arch : p.architectures()) {
            b.append("arch ").append(arch).append('\n');
        }
        for (SeccompProfile.Rule r : p.rules()) {
            // libseccomp refuses a rule whose action is the default one (EACCES); runc skips them too
            if (r.action().equals(p.defaultAction())) {
                continue;
            }
            for (String name : r.names()) {
                b.append("rule ").append(r.action().text()).append(' ').append(name);
                for (SeccompProfile.Arg a : r.args()) {
                    b.append(' ').append(a.index()).append(' ').append(a.op().word).append(' ')
                            .append(Long.toUnsignedString(a.value())).append(' ')
                            .append(Long.toUnsignedString(a.valueTwo()));
                }
                b.append('\n');
            }
        }
        return b.toString();
    }
}
