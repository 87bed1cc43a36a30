# Reads a JSON array on stdin one element at a time, each through Python's own
# decoder, and prints how many elements, the first's and the last's "prefix".
# Streamed so that half a million routes (69 MB of JSON) never sit in memory at
# once (14 MB, against 400 MB for json.load). On the test machine, two
# processes each running three json.load()s of them delayed a nice -10
# thread's 10-ms sleeps by up to 41-66 ms; read this way, by up to 4-6 ms. A
# latency test must not charge the former to the router.
import json
import sys

decoder = json.JSONDecoder()
buf = ''
at = 0


def read_more():
    global buf, at
    chunk = sys.stdin.read(1 << 16)
    buf = buf[at:] + chunk
    at = 0
    return chunk != ''


def next_char():
    """The next character that is not white space (not consumed)."""
    global at
    while True:
        while at < len(buf) and buf[at] in ' \t\r\n':
            at += 1
        if at < len(buf):
            return buf[at]
        if not read_more():
            sys.exit('truncated JSON array')


def next_element():
    """Decode one element, reading on while it runs past the end of what has been read."""
    global at
    while True:
        next_char()
        try:
            value, end = decoder.raw_decode(buf, at)
        except json.JSONDecodeError:
            if read_more():
                continue
            raise
        if end == len(buf) and read_more():
            continue  # a number may go on in the next chunk
        at = end
        return value


if next_char() != '[':
    sys.exit('not a JSON array')
at += 1
count, first, last = 0, None, None
if next_char() == ']':
    at += 1
else:
    while True:
        last = next_element()['prefix']
        first = first if count else last
        count += 1
        sep = next_char()
        at += 1
        if sep == ']':
            break
        if sep != ',':
            sys.exit(f'expected , or ] after element {count}')
if (buf[at:] + sys.stdin.read()).strip():
    sys.exit('data after the JSON array')
print(count, first, last)
