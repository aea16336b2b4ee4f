package io.jgovernor.policy;

import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.api.lowlevel.Parse;
import org.snakeyaml.engine.v2.events.AliasEvent;
import org.snakeyaml.engine.v2.events.CollectionStartEvent;
import org.snakeyaml.engine.v2.events.Event;
import org.snakeyaml.engine.v2.events.ScalarEvent;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;

import java.util.Optional;

/**
 * The limits a policy file's YAML structure is held to before it is composed into a tree.
 * snakeyaml-engine's parser is a state machine with its own stack, but its composer recurses
 * once per nesting level, and 3.0.1 has no depth setting: a 10 KB file of "[[[[...]]]]" throws
 * StackOverflowError from inside it. So the events are read once first, which costs no
 * recursion, and a file past a bound is refused where it first goes past it.
 *
 * <p>The bounds are far beyond any policy: the deepest key of the schema,
 * run.isolate.mounts[i].source, is five levels down.
 */
final class YamlBounds {
    /** Nesting levels of lists and mappings, the document's own mapping counted as one. */
    static final int MAX_DEPTH = 64;
    /**
     * Aliases in one file. A policy has little to repeat; many aliases are how a small file
     * stands for an exponentially larger one ("billion laughs"). The composer's own limit for
     * aliases of lists and mappings is set to the same number.
     */
    static final int MAX_ALIASES = 50;

    private YamlBounds() {
    }

    /** Records at most one error in {@code nodes}: the first bound {@code content} breaks. */
    static void check(LoadSettings settings, String content, Nodes nodes) {
        if (controlCharacter(content, nodes)) {
            return;
        }
        int depth = 0;
        int aliases = 0;
        try {
            for (Event event : new Parse(settings).parseString(content)) {
                switch (event) {
                    case CollectionStartEvent start -> {
                        if (tagged(start.getTag(), event, nodes)) {
                            return;
                        }
                        if (++depth > MAX_DEPTH) {
                            nodes.error(event.getStartMark(), "nesting deeper than " + MAX_DEPTH
                                    + " levels of lists and mappings; no policy needs more than a few");
                            return;
                        }
                    }
                    case ScalarEvent scalar -> {
                        if (tagged(scalar.getTag(), event, nodes)) {
                            return;
                        }
                    }
                    case AliasEvent alias -> {
                        if (++aliases > MAX_ALIASES) {
                            nodes.error(event.getStartMark(), "more than " + MAX_ALIASES + " aliases (*"
                                    + Nodes.clip(alias.getAlias().getValue(), Nodes.QUOTE_MAX)
                                    + "); aliases can make a small file stand for a huge one, and a policy"
                                    + " needs few");
                            return;
                        }
                    }
                    default -> {
                        if (event.getEventId() == Event.ID.SequenceEnd || event.getEventId() == Event.ID.MappingEnd) {
                            depth--;
                        }
                    }
                }
            }
        } catch (YamlEngineException e) {
            // a syntax error: composing meets it at the same event, within the bounds so far,
            // and reports it with its location
        }
    }

    /**
     * YAML allows no control character but tab and line breaks, even quoted; the library says
     * so without a place ("special characters are not allowed"). This says where.
     */
    private static boolean controlCharacter(String content, Nodes nodes) {
        int line = 0;
        int lineStart = 0;
        for (int i = 0; i < content.length(); i++) {
            char c = content.charAt(i);
            if (c == '\n') {
                line++;
                lineStart = i + 1;
            } else if ((c < 0x20 && c != '\t' && c != '\r') || c == 0x7f) {
                nodes.error(Optional.of(new org.snakeyaml.engine.v2.exceptions.Mark("", i, line, i - lineStart,
                        new int[0], 0)), String.format("the control character U+%04X is not allowed in a policy file"
                        + " (YAML allows tabs and line breaks only; write \\0 or \\e escapes in double quotes"
                        + " where a value needs one)", (int) c));
                return true;
            }
        }
        return false;
    }

    /** How a person writes a tag: "!!int" rather than the URI it stands for. */
    private static String written(String tag) {
        String core = "tag:yaml.org,2002:";
        return tag.startsWith(core) ? "!!" + tag.substring(core.length()) : tag;
    }

    /**
     * An explicit tag ("!!int x", "!!binary", "!foo") is refused: a policy's values are typed
     * by their key, and a tag only lets a file force a type the key never expects.
     */
    private static boolean tagged(Optional<String> tag, Event event, Nodes nodes) {
        if (tag.isEmpty()) {
            return false;
        }
        nodes.error(event.getStartMark(), "explicit YAML tag " + Nodes.quote(written(tag.get()))
                + " is not allowed; write the value plainly, its key says what type it is");
        return true;
    }
}
