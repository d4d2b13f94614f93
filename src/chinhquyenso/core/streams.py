"""Reading lines of a file someone else wrote, in bounded memory.

`readline()` without a limit holds a whole line, and a hostile file's one line can be
hundreds of megabytes (its JSON or CSV parsing then costs several times that). Every
line-by-line import reads through `bounded_line` instead."""

TOO_LONG = object()  # what bounded_line gives for a line over its limit


def bounded_line(stream, limit: int):
    """The next line of `stream` (binary or text) if it is at most `limit` bytes or characters,
    TOO_LONG if it is longer — read through to its end in 64 KB pieces and dropped, so memory
    stays about `limit` whatever the line's length — or None at the end of the stream."""
    line = stream.readline(limit + 1)
    if not line:
        return None
    newline = b"\n" if isinstance(line, bytes) else "\n"
    if len(line) > limit and not line.endswith(newline):
        while True:
            rest = stream.readline(1 << 16)
            if not rest or rest.endswith(newline):
                return TOO_LONG
    return line
