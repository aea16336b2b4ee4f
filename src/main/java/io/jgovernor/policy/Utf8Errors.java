package io.jgovernor.policy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Where a policy file stops being UTF-8, so that "not UTF-8" has a line and column like any error. */
final class Utf8Errors {
    private Utf8Errors() {
    }

    /** The error for a file Files.readString refused; at 1:1 when the file cannot be read again. */
    static PolicyError of(Path file) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException | OutOfMemoryError e) {
            return PolicyError.whole(file, "file is not UTF-8 text");
        }
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate(bytes.length + 1);
        CoderResult r = decoder.decode(in, out, true);
        if (!r.isError()) {
            return PolicyError.whole(file, "file is not UTF-8 text");
        }
        int bad = in.position();
        out.flip();
        int line = 1;
        int column = 1;
        for (int i = 0; i < out.length(); i++) {
            if (out.charAt(i) == '\n') {
                line++;
                column = 1;
            } else {
                column++;
            }
        }
        return new PolicyError(file, line, column, String.format("file is not UTF-8 text: byte 0x%02x at offset %d"
                + " cannot start or continue a UTF-8 character", bytes[bad] & 0xff, bad));
    }
}
