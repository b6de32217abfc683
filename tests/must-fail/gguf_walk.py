"""The GGUF field walk the must-fail generators share (run.py sends the
variants through m2w-inspect and m2w-extract, corpus.py through m2w-pack)."""


def gguf_fields(data):
    """[(offset, width, kind)] of every count/length/type/dim/offset field,
    in file order, as far as the file parses (stops quietly at the end)."""
    fields = []
    pos = 0
    sizes = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}

    def u(w, kind):
        nonlocal pos
        if pos + w > len(data):
            raise EOFError
        v = int.from_bytes(data[pos:pos + w], 'little')
        fields.append((pos, w, kind))
        pos += w
        return v

    def string(kind):
        nonlocal pos
        n = u(8, kind)
        if pos + n > len(data):
            raise EOFError
        pos += n

    def value(t):
        nonlocal pos
        if t == 8:
            string('value strlen')
        elif t == 9:
            et = u(4, 'array type')
            n = u(8, 'array count')
            if et in sizes:                  # a plain array: skip it whole
                pos += n * sizes[et]
                if pos > len(data):
                    raise EOFError
            else:
                for _ in range(n):
                    value(et)
        elif t in sizes:
            pos += sizes[t]
            if pos > len(data):
                raise EOFError
        else:
            raise EOFError
    try:
        if data[:4] != b'GGUF':
            return []
        pos = 4
        u(4, 'version')
        nt = u(8, 'tensor count')
        nkv = u(8, 'kv count')
        for _ in range(nkv):
            string('key strlen')
            value(u(4, 'value type'))
        for _ in range(nt):
            string('tensor name strlen')
            nd = u(4, 'n_dims')
            for _ in range(nd):
                u(8, 'dim')
            u(4, 'tensor type')
            u(8, 'tensor offset')
    except EOFError:
        pass
    return fields
