package io.jgovernor.policy;

import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * {@code jgovernor validate [DIR|FILE...]}: every problem the daemon would report for these
 * files, judged as a set on their own (no earlier accepted versions): file safety, parse errors,
 * and the cross-file rules (a name defined twice, a missing parent) within the set; or judged
 * together with the live policy directory ({@link #validateWith}).
 */
public final class Validator {
    private final PolicyParser parser;

    public Validator(PolicyParser parser) {
        this.parser = parser;
    }

    /** Each DIR contributes its policy files in name order, each FILE itself; all errors, in that order. */
    public List<PolicyError> validate(List<Path> filesOrDirs) {
        Set<PolicyError> errors = new LinkedHashSet<>();
        Set<Path> files = new LinkedHashSet<>();
        Set<Path> listed = new java.util.HashSet<>();
        for (Path path : filesOrDirs) {
            if (Files.isDirectory(path)) {
                FileSafety.directoryProblem(path).ifPresent(p -> errors.add(PolicyError.whole(path, p)));
                try {
                    new PolicyDirectory(path).list().forEach(c -> {
                        files.add(c.file().toAbsolutePath().normalize());
                        listed.add(c.file().toAbsolutePath().normalize());
                    });
                } catch (IOException e) {
                    errors.add(PolicyError.whole(path, "cannot read directory: " + e));
                }
            } else {
                files.add(path.toAbsolutePath().normalize());
            }
        }
        List<CrossFile.Input> inputs = new ArrayList<>();
        for (Path file : files) {
            if (listed.contains(file) && !Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
                continue; // listed, then removed while we ran: gone, not an error
            }
            Optional<List<ParsedPolicy>> parsed;
            try {
                parsed = parse(file, errors);
            } catch (RuntimeException | StackOverflowError | OutOfMemoryError e) {
                // one file's trouble is that file's error; the others are still judged
                errors.add(PolicyError.whole(file, "the file cannot be read (" + e.getClass().getSimpleName()
                        + "); the file is refused whole"));
                parsed = Optional.empty();
            }
            inputs.add(new CrossFile.Input(file, List.of(), parsed.orElse(null)));
        }
        for (CrossFile.Outcome o : CrossFile.resolve(inputs)) {
            errors.addAll(o.errors());
        }
        return List.copyOf(errors);
    }

    /**
     * A file to judge: read from {@code path}, judged as if it were the file {@code name} of the
     * policy directory (its own name, or what {@code jgovernor validate --as NAME} says: a deploy
     * tool validates a temporary copy before it moves it into place).
     */
    public record Given(Path path, String name) {
    }

    /**
     * The given files judged together with the policy directory {@code liveDir} as it is now: each
     * replaces the live file of its name (so re-validating a deployed file finds no "already
     * defined"), the other live files keep the groups they define, so a given file that defines one
     * of them again, or names a parent that nowhere exists, is the one rejected. Only the given
     * files' errors are returned: a live file's own problems are the daemon's to report. A live
     * directory that does not exist is an empty one.
     *
     * @throws IOException when {@code liveDir} exists but cannot be read
     */
    public List<PolicyError> validateWith(Path liveDir, List<Given> given) throws IOException {
        Set<String> replaced = new java.util.HashSet<>();
        given.forEach(g -> replaced.add(g.name()));
        List<CrossFile.Input> inputs = new ArrayList<>();
        if (Files.exists(liveDir)) {
            for (PolicyDirectory.Candidate c : new PolicyDirectory(liveDir).list()) {
                if (replaced.contains(c.file().getFileName().toString())) {
                    continue;
                }
                List<ParsedPolicy> live;
                try {
                    live = parse(c.file(), new LinkedHashSet<>()).orElse(List.of());
                } catch (RuntimeException | StackOverflowError | OutOfMemoryError e) {
                    live = List.of();
                }
                // applied and on disk at once: it keeps its names, and is not judged again
                inputs.add(new CrossFile.Input(c.file(), live, live));
            }
        }
        Set<PolicyError> errors = new LinkedHashSet<>();
        Set<Path> mine = new java.util.HashSet<>();
        for (Given g : given) {
            Path file = g.path().toAbsolutePath().normalize();
            mine.add(file);
            Optional<List<ParsedPolicy>> parsed;
            try {
                parsed = parse(file, errors);
            } catch (RuntimeException | StackOverflowError | OutOfMemoryError e) {
                errors.add(PolicyError.whole(file, "the file cannot be read (" + e.getClass().getSimpleName()
                        + "); the file is refused whole"));
                parsed = Optional.empty();
            }
            inputs.add(new CrossFile.Input(file, List.of(), parsed.orElse(null)));
        }
        for (CrossFile.Outcome o : CrossFile.resolve(inputs)) {
            if (mine.contains(o.file())) {
                errors.addAll(o.errors());
            }
        }
        return List.copyOf(errors);
    }

    private Optional<List<ParsedPolicy>> parse(Path file, Set<PolicyError> errors) {
        if (!Files.exists(file)) {
            errors.add(PolicyError.whole(file, "no such file or directory"));
            return Optional.empty();
        }
        Optional<String> unsafe = FileSafety.fileProblem(file);
        if (unsafe.isPresent()) {
            errors.add(PolicyError.whole(file, unsafe.get()));
            // A too-big or non-regular file is not read at all; an unsafe owner or mode still is,
            // so that a person sees every problem at once.
            if (!Files.isRegularFile(file) || sizeOf(file) > FileSafety.MAX_FILE_BYTES) {
                return Optional.empty();
            }
        }
        String content;
        try {
            content = Files.readString(file);
        } catch (CharacterCodingException e) {
            errors.add(Utf8Errors.of(file));
            return Optional.empty();
        } catch (IOException e) {
            errors.add(PolicyError.whole(file, "cannot read file: " + Nodes.clip(String.valueOf(e), Nodes.QUOTE_MAX * 2)));
            return Optional.empty();
        } catch (OutOfMemoryError e) {
            errors.add(PolicyError.whole(file, "the file needs more memory to read than there is"));
            return Optional.empty();
        }
        return switch (parser.parse(file, content)) {
            case ParseResult.Ok ok -> unsafe.isPresent() ? Optional.empty() : Optional.of(ok.policies());
            case ParseResult.Rejected r -> {
                errors.addAll(r.errors());
                yield Optional.empty();
            }
        };
    }

    private static long sizeOf(Path file) {
        try {
            return Files.size(file);
        } catch (IOException e) {
            return Long.MAX_VALUE;
        }
    }
}
