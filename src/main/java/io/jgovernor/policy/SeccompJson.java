package io.jgovernor.policy;

import io.jgovernor.model.SeccompProfile;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A seccomp profile in the OCI runtime spec's JSON shape (linux.seccomp), which is also what
 * Docker's {@code --security-opt seccomp=FILE} reads without its conditional keys:
 *
 * <pre>
 * {"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1, "architectures": ["SCMP_ARCH_X86_64"],
 *  "syscalls": [{"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"},
 *               {"names": ["clone"], "action": "SCMP_ACT_ALLOW",
 *                "args": [{"index": 0, "value": 2114060288, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}]}]}
 * </pre>
 *
 * Read at validation, so a bad profile is a located error in the policy that names it, never a
 * failed start. What the exec stage cannot carry out alone is refused by name: SCMP_ACT_NOTIFY
 * (a listener), SCMP_ACT_TRACE (a tracer), Docker's includes/excludes and archMap (conditions on
 * the daemon's capabilities and kernel; write the rules this host needs), filter flags. A
 * "comment" key is read past anywhere. A system call name unknown to this host's libseccomp is
 * skipped by the stage, as runc skips it (profiles list the calls of many kernels).
 */
final class SeccompJson {
    /** Larger than any real profile (Docker's default is 20 KiB); the file is read whole into memory. */
    static final int MAX_BYTES = 1 << 20;
    /** Rules times names: each is a branch libseccomp compiles at every start. Docker's default has about 400. */
    static final int MAX_NAMES = 4096;
    static final int MAX_RULES = 1024;
    static final int MAX_NAME_LENGTH = 64;
    /** errno values the kernel can return from a filter (SECCOMP_RET_DATA is 16 bits; errno is at most 4095). */
    static final int MAX_ERRNO = 4095;
    static final int EPERM = 1;

    private static final List<String> TOP_KEYS = List.of("defaultAction", "defaultErrnoRet", "architectures", "syscalls");
    private static final List<String> RULE_KEYS = List.of("names", "action", "errnoRet", "args");
    private static final List<String> ARG_KEYS = List.of("index", "value", "valueTwo", "op");
    /** Keys that mean something this reader does not do, with why. */
    private static final Map<String, String> REFUSED = Map.of(
            "archMap", "Docker's per-architecture map; list the filter's architectures in \"architectures\"",
            "includes", "Docker's conditions on the daemon's capabilities and kernel; write the rules this host needs",
            "excludes", "Docker's conditions on the daemon's capabilities and kernel; write the rules this host needs",
            "flags", "filter flags are not supported",
            "listenerPath", "SCMP_ACT_NOTIFY listeners are not supported",
            "listenerMetadata", "SCMP_ACT_NOTIFY listeners are not supported",
            "name", "the one-name form of old Docker profiles; write \"names\": [\"...\"]");
    /** libseccomp's architecture names (seccomp_arch_resolve_name), as OCI spells them: SCMP_ARCH_ + upper case. */
    private static final List<String> ARCHES = List.of("x86", "x86_64", "x32", "arm", "aarch64", "loongarch64",
            "mips", "mips64", "mips64n32", "mipsel", "mipsel64", "mipsel64n32", "ppc", "ppc64", "ppc64le", "s390",
            "s390x", "parisc", "parisc64", "riscv64");

    private static final class Holder {
        static final SeccompProfile BUILT_IN = loadBuiltIn();
    }

    private SeccompJson() {
    }

    /** The profile {@code seccomp: default} names: seccomp-default.json beside this class (see its README note). */
    static SeccompProfile builtIn() {
        return Holder.BUILT_IN;
    }

    private static SeccompProfile loadBuiltIn() {
        try (InputStream in = SeccompJson.class.getResourceAsStream("seccomp-default.json")) {
            if (in == null) {
                throw new IllegalStateException("seccomp-default.json is missing from the build");
            }
            return parse(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (JsonReader.JsonException e) {
            throw new IllegalStateException("seccomp-default.json:" + e.line + ":" + e.column + ": " + e.getMessage());
        }
    }

    static SeccompProfile parse(String text) throws JsonReader.JsonException {
        JsonReader.Obj top = object(JsonReader.parse(text), "a profile");
        check(top, TOP_KEYS, "");
        JsonReader.Member def = top.members().get("defaultAction");
        if (def == null) {
            throw new JsonReader.JsonException(top.line(), top.column(), "missing required key \"defaultAction\""
                    + " (what the filter does with a system call no rule names, e.g. \"SCMP_ACT_ERRNO\")");
        }
        SeccompProfile.Action defaultAction = action(def.value(), top.members().get("defaultErrnoRet"));
        List<String> arches = new ArrayList<>();
        JsonReader.Member a = top.members().get("architectures");
        if (a != null) {
            for (JsonReader.Value v : array(a.value(), "a list of architectures").items()) {
                String name = string(v, "an architecture like \"SCMP_ARCH_X86_64\"");
                String arch = name.startsWith("SCMP_ARCH_") ? name.substring(10).toLowerCase(java.util.Locale.ROOT) : "";
                if (!ARCHES.contains(arch) || !name.equals("SCMP_ARCH_" + arch.toUpperCase(java.util.Locale.ROOT))) {
                    List<String> known = ARCHES.stream().map(x -> "SCMP_ARCH_" + x.toUpperCase(java.util.Locale.ROOT)).toList();
                    throw at(v, quoted(name) + " is not a seccomp architecture" + Hints.suffix(name, known));
                }
                if (!arches.contains(arch)) {
                    arches.add(arch);
                }
            }
        }
        List<SeccompProfile.Rule> rules = new ArrayList<>();
        JsonReader.Member sys = top.members().get("syscalls");
        int names = 0;
        if (sys != null) {
            JsonReader.Arr list = array(sys.value(), "a list of rules");
            if (list.items().size() > MAX_RULES) {
                throw at(list, list.items().size() + " rules; at most " + MAX_RULES + " (each is compiled at every start)");
            }
            for (JsonReader.Value v : list.items()) {
                SeccompProfile.Rule rule = rule(v);
                names += rule.names().size();
                if (names > MAX_NAMES) {
                    throw at(v, "more than " + MAX_NAMES + " system call names in all; a filter needs a few hundred");
                }
                rules.add(rule);
            }
        }
        return new SeccompProfile(defaultAction, arches, rules);
    }

    private static SeccompProfile.Rule rule(JsonReader.Value v) throws JsonReader.JsonException {
        JsonReader.Obj o = object(v, "a rule like {\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\"}");
        check(o, RULE_KEYS, "syscalls[]");
        JsonReader.Member names = o.members().get("names");
        JsonReader.Member action = o.members().get("action");
        if (names == null || action == null) {
            throw at(o, "a rule needs \"names\" and \"action\"");
        }
        List<String> list = new ArrayList<>();
        for (JsonReader.Value n : array(names.value(), "a list of system call names").items()) {
            String name = string(n, "a system call name");
            if (!syscallName(name)) {
                throw at(n, quoted(name) + " is not a system call name (lower-case letters, digits and _, at most "
                        + MAX_NAME_LENGTH + ")");
            }
            list.add(name);
        }
        if (list.isEmpty()) {
            throw at(names.value(), "a rule must name at least one system call");
        }
        SeccompProfile.Action act = action(action.value(), o.members().get("errnoRet"));
        List<SeccompProfile.Arg> args = new ArrayList<>();
        JsonReader.Member a = o.members().get("args");
        if (a != null && !(a.value() instanceof JsonReader.Null)) {
            JsonReader.Arr arr = array(a.value(), "a list of argument comparisons");
            if (arr.items().size() > 6) {
                throw at(arr, arr.items().size() + " argument comparisons; a system call has at most 6 arguments");
            }
            for (JsonReader.Value x : arr.items()) {
                args.add(arg(x));
            }
        }
        return new SeccompProfile.Rule(list, act, args);
    }

    private static SeccompProfile.Arg arg(JsonReader.Value v) throws JsonReader.JsonException {
        JsonReader.Obj o = object(v, "an argument comparison like {\"index\": 0, \"value\": 1, \"op\": \"SCMP_CMP_EQ\"}");
        check(o, ARG_KEYS, "args[]");
        JsonReader.Member index = o.members().get("index");
        JsonReader.Member value = o.members().get("value");
        JsonReader.Member op = o.members().get("op");
        if (index == null || value == null || op == null) {
            throw at(o, "an argument comparison needs \"index\", \"value\" and \"op\"");
        }
        BigInteger i = integer(index.value(), BigInteger.valueOf(5), "an argument index 0 to 5");
        long val = integer(value.value(), UNSIGNED_MAX, "an unsigned 64-bit value").longValue();
        JsonReader.Member two = o.members().get("valueTwo");
        long valTwo = two == null ? 0 : integer(two.value(), UNSIGNED_MAX, "an unsigned 64-bit value").longValue();
        String opName = string(op.value(), "a comparison like \"SCMP_CMP_EQ\"");
        SeccompProfile.Op found = Arrays.stream(SeccompProfile.Op.values()).filter(x -> x.oci.equals(opName)).findFirst()
                .orElseThrow(() -> at(op.value(), quoted(opName) + " is not a seccomp comparison (one of "
                        + String.join(", ", Arrays.stream(SeccompProfile.Op.values()).map(x -> x.oci).toList()) + ")"
                        + Hints.suffix(opName, Arrays.stream(SeccompProfile.Op.values()).map(x -> x.oci).toList())));
        return new SeccompProfile.Arg(i.intValue(), val, valTwo, found);
    }

    private static final BigInteger UNSIGNED_MAX = BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE);

    private static SeccompProfile.Action action(JsonReader.Value v, JsonReader.Member errnoRet) throws JsonReader.JsonException {
        String name = string(v, "an action like \"SCMP_ACT_ALLOW\"");
        List<String> known = Arrays.stream(SeccompProfile.Kind.values()).map(k -> k.oci).toList();
        SeccompProfile.Kind kind = switch (name) {
            case "SCMP_ACT_KILL" -> SeccompProfile.Kind.KILL_THREAD; // the OCI name of KILL_THREAD
            case "SCMP_ACT_NOTIFY" -> throw at(v, "SCMP_ACT_NOTIFY needs a listener, which jgovernor does not run");
            case "SCMP_ACT_TRACE" -> throw at(v, "SCMP_ACT_TRACE needs a tracer, which jgovernor does not run;"
                    + " without one the call fails with ENOSYS: write SCMP_ACT_ERRNO with \"errnoRet\": 38");
            default -> Arrays.stream(SeccompProfile.Kind.values()).filter(k -> k.oci.equals(name)).findFirst()
                    .orElseThrow(() -> at(v, quoted(name) + " is not a seccomp action (one of " + String.join(", ", known)
                            + ")" + Hints.suffix(name, known)));
        };
        if (kind != SeccompProfile.Kind.ERRNO) {
            if (errnoRet != null) {
                throw at(errnoRet.value(), "an errno is returned only by SCMP_ACT_ERRNO, not by " + name);
            }
            return SeccompProfile.Action.of(kind);
        }
        int errno = errnoRet == null ? EPERM
                : integer(errnoRet.value(), BigInteger.valueOf(MAX_ERRNO), "an errno 1 to " + MAX_ERRNO).intValue();
        if (errno == 0) {
            throw at(errnoRet.value(), "errno 0 would make the call seem to succeed without running; write SCMP_ACT_ALLOW"
                    + " or an errno 1 to " + MAX_ERRNO);
        }
        return new SeccompProfile.Action(kind, errno);
    }

    private static boolean syscallName(String s) {
        if (s.isEmpty() || s.length() > MAX_NAME_LENGTH || (s.charAt(0) >= '0' && s.charAt(0) <= '9')) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) {
                return false;
            }
        }
        return true;
    }

    private static void check(JsonReader.Obj o, List<String> allowed, String where) throws JsonReader.JsonException {
        for (JsonReader.Member m : o.members().values()) {
            if (allowed.contains(m.key()) || m.key().equals("comment")) {
                continue;
            }
            String prefix = where.isEmpty() ? "" : where + ": ";
            String why = REFUSED.get(m.key());
            if (why != null) {
                throw new JsonReader.JsonException(m.line(), m.column(), prefix + "\"" + m.key() + "\" is not supported: " + why);
            }
            throw new JsonReader.JsonException(m.line(), m.column(), prefix + "unknown key " + quoted(m.key())
                    + " (expected one of " + String.join(", ", allowed) + ")" + Hints.suffix(m.key(), allowed));
        }
    }

    private static JsonReader.Obj object(JsonReader.Value v, String expected) throws JsonReader.JsonException {
        if (v instanceof JsonReader.Obj o) {
            return o;
        }
        throw at(v, "expected " + expected + ", got " + kind(v));
    }

    private static JsonReader.Arr array(JsonReader.Value v, String expected) throws JsonReader.JsonException {
        if (v instanceof JsonReader.Arr a) {
            return a;
        }
        throw at(v, "expected " + expected + ", got " + kind(v));
    }

    private static String string(JsonReader.Value v, String expected) throws JsonReader.JsonException {
        if (v instanceof JsonReader.Str s) {
            return s.text();
        }
        throw at(v, "expected " + expected + " in double quotes, got " + kind(v));
    }

    private static BigInteger integer(JsonReader.Value v, BigInteger max, String expected) throws JsonReader.JsonException {
        if (v instanceof JsonReader.Num n) {
            BigInteger i = n.integer();
            if (i != null && i.signum() >= 0 && i.compareTo(max) <= 0) {
                return i;
            }
            throw at(v, Nodes.clip(n.text(), 40) + " is not " + expected);
        }
        throw at(v, "expected " + expected + ", got " + kind(v));
    }

    private static String kind(JsonReader.Value v) {
        return switch (v) {
            case JsonReader.Obj o -> "an object";
            case JsonReader.Arr a -> "a list";
            case JsonReader.Str s -> "the string " + quoted(s.text());
            case JsonReader.Num n -> "the number " + Nodes.clip(n.text(), 40);
            case JsonReader.Bool b -> b.value() ? "true" : "false";
            case JsonReader.Null x -> "null";
        };
    }

    private static String quoted(String s) {
        return Nodes.quote(Nodes.clip(s, 60));
    }

    private static JsonReader.JsonException at(JsonReader.Value v, String message) {
        return new JsonReader.JsonException(v.line(), v.column(), message);
    }

    /** Names the stage should see once only (a profile may list a call twice, in two rules). */
    static Set<String> allNames(SeccompProfile p) {
        Set<String> s = new java.util.LinkedHashSet<>();
        p.rules().forEach(r -> s.addAll(r.names()));
        return s;
    }
}
