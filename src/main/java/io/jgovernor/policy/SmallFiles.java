package io.jgovernor.policy;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Reads a file a policy names beside itself (a seccomp profile). It weakens or strengthens what
 * a root-started workload may do, so it is trusted as a policy file is (FileSafety: owned by
 * root, not writable by group or others), and it is read bounded: never more than the limit,
 * however large the file claims or grows to be.
 */
final class SmallFiles {
    private SmallFiles() {
    }

    static String read(Path path, int maxBytes) throws IOException {
        // the size first: FileSafety's own size check speaks of policy files
        try {
            if (Files.size(path) > maxBytes) {
                throw new IOException("is more than " + maxBytes + " bytes; no profile needs that");
            }
        } catch (NoSuchFileException e) {
            throw new IOException("does not exist");
        }
        var problem = FileSafety.fileProblem(path);
        if (problem.isPresent()) {
            throw new IOException(problem.get().equals(FileSafety.GONE) ? "does not exist" : problem.get());
        }
        byte[] bytes;
        try (InputStream in = Files.newInputStream(path)) {
            bytes = in.readNBytes(maxBytes + 1);
        } catch (NoSuchFileException e) {
            throw new IOException("does not exist");
        }
        if (bytes.length > maxBytes) {
            throw new IOException("is more than " + maxBytes + " bytes; no profile needs that");
        }
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new IOException("is not UTF-8 text");
        }
    }
}
