/* The X12 splitter's fast path in C: an optional drop-in for `splitter._py_fast`.
 *
 * split(text, base, term, sep, seq, segment_type) returns (segments, tags, marks), or
 * None wherever the Python fast path returns None (then the caller takes the general,
 * per-segment path). Same segments, tags, positions, offsets and envelope marks as the
 * Python code, decision for decision: tests/connectors/x12 hold both paths to it.
 *
 * Why C: the pure-Python fast path already drives str.split and tuple.__new__ by `map`,
 * yet spends ~0.85 us of CPU per segment; the objects themselves (tag, element strings,
 * their list, the Segment tuple, two ints) cost a fraction of that.
 *
 * Safety: the input is a partner's file. `text` is only read as the ASCII buffer of a
 * str whose length Python gives; every index below stays in [0, n). Every object made
 * is owned by a list or released on the way out, error paths included.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

#if PY_VERSION_HEX >= 0x030E0000
/* Segments are allocated as tuple subclass instances by tp_alloc (as tuple.__new__
 * does for a subclass); from 3.14 a tuple caches its hash in a field this code would
 * not initialise, so the module refuses to load there and the Python path runs. */
#define X12_UNSUPPORTED_PYTHON 1
#endif

/* Strings of 2-3 characters seen in one call (tags, and codes such as "EA", "ST", "92"),
 * direct-mapped: one str object shared by their occurrences, as interning would. */
#define CACHE_SLOTS 256

typedef struct {
    PyObject *slot[CACHE_SLOTS];
} StrCache;

static int
is_noise(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == 0x1a;
}

/* A tag the Python path sends to the general path: in its joined tags
 * ("\0" + "\0".join(tags) + "\0") some "\0" is followed by "\0", " ", "\t", "\x1a"
 * or "ISA". Every "\0" of that string starts a tag or sits inside one (ASCII text may
 * hold NUL bytes), so each tag is checked at its start and after each NUL in it. */
static int
suspect_tag(const unsigned char *t, Py_ssize_t n)
{
    Py_ssize_t p = 0;
    for (;;) {
        Py_ssize_t rest = n - p;
        if (rest == 0) {
            return 1; /* an empty tag, or a tag ending in NUL: "\0\0" */
        }
        unsigned char c = t[p];
        if (c == 0 || c == ' ' || c == '\t' || c == 0x1a) {
            return 1;
        }
        if (rest >= 3 && c == 'I' && t[p + 1] == 'S' && t[p + 2] == 'A') {
            return 1;
        }
        const unsigned char *z = memchr(t + p, 0, (size_t)rest);
        if (z == NULL) {
            return 0;
        }
        p = (Py_ssize_t)(z - t) + 1;
    }
}

/* IEA, GS, GE, ST, SE (an ISA tag never gets here: suspect_tag declines it). */
static int
is_envelope(const unsigned char *t, Py_ssize_t n)
{
    if (n == 2) {
        return (t[0] == 'G' && (t[1] == 'S' || t[1] == 'E')) ||
               (t[0] == 'S' && (t[1] == 'T' || t[1] == 'E'));
    }
    return n == 3 && t[0] == 'I' && t[1] == 'E' && t[2] == 'A';
}

/* A new reference to the str of n ASCII bytes at p. */
static PyObject *
ascii_str(const unsigned char *p, Py_ssize_t n)
{
    if (n == 1) {
        return PyUnicode_FromOrdinal(p[0]); /* CPython's cached one-character str */
    }
    PyObject *s = PyUnicode_New(n, 127);
    if (s != NULL && n > 0) {
        memcpy(PyUnicode_1BYTE_DATA(s), p, (size_t)n);
    }
    return s;
}

/* A new reference to the str of n ASCII bytes at p, shared with earlier ones of the call
 * when it is 2 or 3 characters long (0 and 1 are CPython's own singletons). */
static PyObject *
cached_str(StrCache *cache, const unsigned char *p, Py_ssize_t n)
{
    if (n < 2 || n > 3) {
        return ascii_str(p, n);
    }
    size_t h = ((size_t)p[0] * 31u + p[1]) * 31u + (n == 3 ? p[2] : 0u);
    PyObject **slot = &cache->slot[h % CACHE_SLOTS];
    PyObject *hit = *slot;
    if (hit != NULL && PyUnicode_GET_LENGTH(hit) == n &&
        memcmp(PyUnicode_1BYTE_DATA(hit), p, (size_t)n) == 0) {
        Py_INCREF(hit);
        return hit;
    }
    PyObject *s = ascii_str(p, n);
    if (s != NULL) {
        Py_INCREF(s);
        Py_XSETREF(*slot, s);
    }
    return s;
}

static void
clear_cache(StrCache *cache)
{
    for (int i = 0; i < CACHE_SLOTS; i++) {
        Py_CLEAR(cache->slot[i]);
    }
}

/* Length of a piece's tag: up to the first separator (sep is -1 when it is not ASCII:
 * then no byte of the ASCII text matches and the whole piece is the tag). */
static Py_ssize_t
tag_length(const unsigned char *p, Py_ssize_t n, int sep)
{
    Py_ssize_t k = 0;
    while (k < n && p[k] != sep) {
        k++;
    }
    return k;
}

/* The elements of a piece as a new list: what follows each separator from p[at] on
 * (p[at] is the separator after the tag, or at == n: no elements). */
static PyObject *
elements_of(StrCache *cache, const unsigned char *p, Py_ssize_t n, Py_ssize_t at, int sep)
{
    Py_ssize_t count = 0;
    for (Py_ssize_t i = at; i < n; i++) {
        count += p[i] == sep;
    }
    PyObject *list = PyList_New(count);
    if (list == NULL) {
        return NULL;
    }
    for (Py_ssize_t i = 0; i < count; i++) {
        Py_ssize_t from = at + 1, to = at + 1;
        while (to < n && p[to] != sep) {
            to++;
        }
        PyObject *s = cached_str(cache, p + from, to - from);
        if (s == NULL) {
            Py_DECREF(list);
            return NULL;
        }
        PyList_SET_ITEM(list, i, s);
        at = to;
    }
    return list;
}

/* One Segment(tag, elements, position, offset), stealing `elements`. */
static PyObject *
new_segment(PyTypeObject *type, PyObject *tag, PyObject *elements, Py_ssize_t position,
            Py_ssize_t offset)
{
    PyObject *pos = PyLong_FromSsize_t(position);
    PyObject *off = pos == NULL ? NULL : PyLong_FromSsize_t(offset);
    PyObject *seg = off == NULL ? NULL : type->tp_alloc(type, 4);
    if (seg == NULL) {
        Py_XDECREF(pos);
        Py_XDECREF(off);
        Py_DECREF(elements);
        return NULL;
    }
    Py_INCREF(tag);
    PyTuple_SET_ITEM(seg, 0, tag);
    PyTuple_SET_ITEM(seg, 1, elements);
    PyTuple_SET_ITEM(seg, 2, pos);
    PyTuple_SET_ITEM(seg, 3, off);
    return seg;
}

typedef struct {
    const unsigned char *data; /* the whole text */
    Py_ssize_t *ends;          /* pieces[i] is data[starts[i]:ends[i]] */
    Py_ssize_t *starts;
    Py_ssize_t count;
} Pieces;

/* body.split(cut) for body = data[start:stop], as str.split does: left to right, not
 * overlapping. `room` bounds the count (every cut holds a terminator). 0, or -1 when
 * the count would pass `room` (cannot happen; checked so that no write runs past). */
static int
split_pieces(Pieces *out, Py_ssize_t start, Py_ssize_t stop, const unsigned char *cut,
             Py_ssize_t cut_len, Py_ssize_t room)
{
    const unsigned char *d = out->data;
    Py_ssize_t from = start, at = start;
    out->count = 0;
    while (at + cut_len <= stop) {
        const unsigned char *hit = memchr(d + at, cut[0], (size_t)(stop - at));
        if (hit == NULL) {
            break;
        }
        at = (Py_ssize_t)(hit - d);
        if (at + cut_len > stop) {
            break;
        }
        if (memcmp(d + at, cut, (size_t)cut_len) != 0) {
            at++;
            continue;
        }
        if (out->count >= room) {
            return -1;
        }
        out->starts[out->count] = from;
        out->ends[out->count++] = at;
        at += cut_len;
        from = at;
    }
    if (out->count >= room) {
        return -1;
    }
    out->starts[out->count] = from;
    out->ends[out->count++] = stop;
    return 0;
}

static Py_ssize_t
count_byte(const unsigned char *p, Py_ssize_t n, unsigned char c)
{
    Py_ssize_t k = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        k += p[i] == c;
    }
    return k;
}

/* How often the terminator, CR and LF occur in the text: one pass for all three. */
typedef struct {
    Py_ssize_t term, cr, lf;
} Counts;

static Counts
count_marks(const unsigned char *p, Py_ssize_t n, unsigned char term)
{
    Counts c = {0, 0, 0};
    for (Py_ssize_t i = 0; i < n; i++) {
        c.term += p[i] == term;
        c.cr += p[i] == '\r';
        c.lf += p[i] == '\n';
    }
    return c;
}

/* splitter._regular: every terminator carries the suffix; no other CR or LF. */
static int
regular(const Counts *seen, unsigned char term, const unsigned char *suffix,
        Py_ssize_t suffix_len, Py_ssize_t pieces)
{
    if (suffix_len > 0 && seen->term != pieces) {
        return 0;
    }
    static const unsigned char breaks[2] = {'\r', '\n'};
    for (int i = 0; i < 2; i++) {
        unsigned char ch = breaks[i];
        if (ch == term) {
            continue;
        }
        Py_ssize_t per = count_byte(suffix, suffix_len, ch);
        Py_ssize_t total = ch == '\r' ? seen->cr : seen->lf;
        if (per ? total != (pieces - 1) * per : total != 0) {
            return 0;
        }
    }
    return 1;
}

/* Build the three lists from the pieces; NULL with an exception set on failure. */
static PyObject *
build(const Pieces *pc, Py_ssize_t base, Py_ssize_t seq, int sep, PyTypeObject *type)
{
    StrCache cache;
    memset(&cache, 0, sizeof cache);
    PyObject *segments = PyList_New(pc->count);
    PyObject *tags = PyList_New(pc->count);
    PyObject *marks = PyList_New(0);
    if (segments == NULL || tags == NULL || marks == NULL) {
        goto fail;
    }
    for (Py_ssize_t i = 0; i < pc->count; i++) {
        const unsigned char *p = pc->data + pc->starts[i];
        Py_ssize_t n = pc->ends[i] - pc->starts[i], tag_len = tag_length(p, n, sep);
        PyObject *tag = cached_str(&cache, p, tag_len);
        if (tag == NULL) {
            goto fail;
        }
        PyList_SET_ITEM(tags, i, tag);
        PyObject *elements = elements_of(&cache, p, n, tag_len, sep);
        if (elements == NULL) {
            goto fail;
        }
        PyObject *seg = new_segment(type, tag, elements, seq + 1 + i, base + pc->starts[i]);
        if (seg == NULL) {
            goto fail;
        }
        PyList_SET_ITEM(segments, i, seg);
        if (is_envelope(p, tag_len)) {
            PyObject *at = PyLong_FromSsize_t(i);
            int bad = at == NULL || PyList_Append(marks, at) < 0;
            Py_XDECREF(at);
            if (bad) {
                goto fail;
            }
        }
    }
    clear_cache(&cache);
    PyObject *out = PyTuple_Pack(3, segments, tags, marks);
    Py_DECREF(segments);
    Py_DECREF(tags);
    Py_DECREF(marks);
    return out;
fail:
    clear_cache(&cache);
    Py_XDECREF(segments);
    Py_XDECREF(tags);
    Py_XDECREF(marks);
    return NULL;
}

static int
one_char(PyObject *s, const char *what, Py_UCS4 *out)
{
    if (!PyUnicode_Check(s) || PyUnicode_GET_LENGTH(s) != 1) {
        PyErr_Format(PyExc_ValueError, "%s must be a str of one character", what);
        return -1;
    }
    *out = PyUnicode_READ_CHAR(s, 0);
    return 0;
}

/* Everything splitter._py_fast checks before splitting into elements; fills `pc`.
 * 1 to go on, 0 to decline (None), -1 on error. */
static int
prepare(PyObject *text, Py_UCS4 term, Pieces *pc)
{
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    if (n == 0 || !PyUnicode_IS_ASCII(text) || term > 127) {
        return 0;
    }
    const unsigned char *d = PyUnicode_1BYTE_DATA(text);
    unsigned char t = (unsigned char)term;
    if (d[n - 1] != t) {
        return 0;
    }
    Py_ssize_t start = 0;
    while (start < n && is_noise(d[start])) {
        start++;
    }
    if (start == n) {
        pc->count = 0;
        return 1; /* nothing but noise: no segments */
    }
    if (n - start == 1 || (n - start >= 3 && memcmp(d + start, "ISA", 3) == 0)) {
        return 0;
    }
    Py_ssize_t at = start;
    while (d[at] != t) { /* found: d[n - 1] == t */
        at++;
    }
    Py_ssize_t end = ++at;
    while (end < n && (d[end] == '\r' || d[end] == '\n' || d[end] == ' ')) {
        end++;
    }
    Py_ssize_t suffix_len = end - at;
    const unsigned char *cut = d + at - 1; /* the first terminator and its suffix */
    Counts seen = count_marks(d + start, n - start, t);
    Py_ssize_t room = seen.term; /* >= pieces, >= 1 */
    pc->data = d;
    pc->starts = PyMem_New(Py_ssize_t, (size_t)room);
    pc->ends = PyMem_New(Py_ssize_t, (size_t)room);
    if (pc->starts == NULL || pc->ends == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    if (split_pieces(pc, start, n - 1, cut, suffix_len + 1, room) < 0) {
        PyErr_SetString(PyExc_SystemError, "x12 splitter: more pieces than terminators");
        return -1;
    }
    if (!regular(&seen, t, cut + 1, suffix_len, pc->count)) {
        return 0;
    }
    return 1;
}

static int
tags_regular(const Pieces *pc, int sep)
{
    for (Py_ssize_t i = 0; i < pc->count; i++) {
        const unsigned char *p = pc->data + pc->starts[i];
        if (suspect_tag(p, tag_length(p, pc->ends[i] - pc->starts[i], sep))) {
            return 0;
        }
    }
    return 1;
}

static PyObject *
split(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 6) {
        PyErr_SetString(PyExc_TypeError,
                        "split(text, base, term, sep, seq, segment_type) takes 6 arguments");
        return NULL;
    }
    PyObject *text = args[0], *type = args[5];
    if (!PyUnicode_Check(text)) {
        PyErr_SetString(PyExc_TypeError, "text must be a str");
        return NULL;
    }
    if (!PyType_Check(type) || !PyType_IsSubtype((PyTypeObject *)type, &PyTuple_Type) ||
        ((PyTypeObject *)type)->tp_basicsize != PyTuple_Type.tp_basicsize) {
        PyErr_SetString(PyExc_TypeError, "segment_type must be a tuple subclass without slots");
        return NULL;
    }
    Py_UCS4 term, sep;
    if (one_char(args[2], "term", &term) < 0 || one_char(args[3], "sep", &sep) < 0) {
        return NULL;
    }
    Py_ssize_t base = PyLong_AsSsize_t(args[1]);
    if (base == -1 && PyErr_Occurred()) {
        return NULL;
    }
    Py_ssize_t seq = PyLong_AsSsize_t(args[4]);
    if (seq == -1 && PyErr_Occurred()) {
        return NULL;
    }
#if PY_VERSION_HEX < 0x030C0000
    if (PyUnicode_READY(text) < 0) {
        return NULL;
    }
#endif
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    if (base < 0 || seq < 0 || base > PY_SSIZE_T_MAX - n || seq > PY_SSIZE_T_MAX - n) {
        PyErr_SetString(PyExc_OverflowError, "base and seq: 0 .. PY_SSIZE_T_MAX - len(text)");
        return NULL;
    }
    Pieces pc = {NULL, NULL, NULL, 0};
    PyObject *out = NULL;
    int go = prepare(text, term, &pc); /* offsets: base + index in text, stripped or not */
    if (go < 0) {
        goto done;
    }
    if (go == 0) {
        out = Py_NewRef(Py_None);
        goto done;
    }
    int s = sep <= 127 ? (int)sep : -1;
    if (pc.count > 0 && !tags_regular(&pc, s)) {
        out = Py_NewRef(Py_None);
        goto done;
    }
    out = build(&pc, base, seq, s, (PyTypeObject *)type);
done:
    PyMem_Free(pc.starts);
    PyMem_Free(pc.ends);
    return out;
}

static PyMethodDef methods[] = {
    {"split", (PyCFunction)(void (*)(void))split, METH_FASTCALL,
     "split(text, base, term, sep, seq, segment_type) -> (segments, tags, marks) | None\n\n"
     "The X12 splitter's fast path (see connectors/x12/splitter.py)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "connectors.x12._speedups",
    "Optional compiled fast path of the X12 splitter.", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
#ifdef X12_UNSUPPORTED_PYTHON
    PyErr_SetString(PyExc_ImportError, "connectors.x12._speedups: not built for Python >= 3.14");
    return NULL;
#else
    return PyModule_Create(&module);
#endif
}
