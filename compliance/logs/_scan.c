/* Compiled twin of compliance.logs.scan.RegexScanner: find the first wanted "qsl_idx" key in a block of an accuracy log.
 *
 * search(block, start, wanted[, bitmap]) -> (match_start, match_end, count)
 *
 *   block   a bytes-like object (a block of mlperf_log_accuracy.json)
 *   start   where to start looking (0 <= start <= len(block))
 *   wanted  a bytes-like object of native unsigned 64-bit integers, sorted ascending (array('Q'))
 *   bitmap  optional: the same set as bits (bit n of byte n / 8 set when n is wanted, every wanted n below
 *           8 * len(bitmap)): one lookup per key instead of a binary search (a log of millions of small entries
 *           has a key every ~120 bytes; the search's mispredicted branches were most of the scanner's time)
 *
 * The match is exactly what the regex  "qsl_idx"\s*:\s*N(?![0-9.eE])  finds when N runs over the decimal forms of
 * the wanted numbers: a key whose whole digit run is a wanted number without leading zeros, not followed by '.',
 * 'e' or 'E' (a number that is not an integer). match_start is -1 when there is none. count is what
 * block.count(b'"qsl_idx"', start, match_start) gives (up to the end of the block when there is no match):
 * non-overlapping occurrences that lie wholly in that range.
 *
 * Why C: a LoadGen accuracy log of millions of small entries has a "qsl_idx" key every ~120 bytes; Python's re
 * module scans byte by byte (about 1 s per GB here) where memchr reads at memory speed (docs/performance.md).
 * compliance.scan falls back to the regex when this module was not built; tests check both give the same answers.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

static const char KEY[] = "\"qsl_idx\"";
#define KEY_LEN 9
#define X_AT 7 /* KEY[X_AT] == 'x' */
#define MAX_DIGITS 19 /* 10**19 - 1 < 2**64: every run this long or shorter fits in a uint64_t */

static int is_space(unsigned char c) /* bytes-pattern \s: [ \t\n\r\f\v] */
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

typedef struct {
    const uint64_t *wanted; /* sorted */
    Py_ssize_t count;
    const unsigned char *bits; /* NULL, or the same set as a bitmap of nbits bits */
    uint64_t nbits;
} Wanted;

static int is_wanted(uint64_t n, const Wanted *set)
{
    if (set->bits != NULL)
        return n < set->nbits && (set->bits[n >> 3] >> (n & 7)) & 1;
    const uint64_t *wanted = set->wanted;
    Py_ssize_t count = set->count, lo = 0, hi = count;
    while (lo < hi) {
        Py_ssize_t mid = lo + (hi - lo) / 2;
        if (wanted[mid] < n)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < count && wanted[lo] == n;
}

/* The end of a wanted key's number when the key at `at` matches, else -1. */
static Py_ssize_t match_at(const unsigned char *s, Py_ssize_t len, Py_ssize_t at, const Wanted *set)
{
    Py_ssize_t p = at + KEY_LEN, digits;
    uint64_t n = 0;
    while (p < len && is_space(s[p]))
        p++;
    if (p >= len || s[p] != ':')
        return -1;
    p++;
    while (p < len && is_space(s[p]))
        p++;
    for (digits = 0; p + digits < len && s[p + digits] >= '0' && s[p + digits] <= '9'; digits++) {
        if (digits < MAX_DIGITS)
            n = n * 10 + (uint64_t)(s[p + digits] - '0');
    }
    if (digits == 0 || digits > MAX_DIGITS || (digits > 1 && s[p] == '0'))
        return -1;
    p += digits;
    if (p < len && (s[p] == '.' || s[p] == 'e' || s[p] == 'E'))
        return -1;
    return is_wanted(n, set) ? p : -1;
}

static PyObject *search(PyObject *module, PyObject *args)
{
    Py_buffer block, wanted, bitmap = {0};
    Py_ssize_t start, match_start = -1, match_end = -1, count = 0, counted_end = 0;
    (void)module;
    if (!PyArg_ParseTuple(args, "y*ny*|y*:search", &block, &start, &wanted, &bitmap))
        return NULL;
    if (start < 0 || start > block.len || wanted.len % (Py_ssize_t)sizeof(uint64_t) != 0) {
        PyBuffer_Release(&block);
        PyBuffer_Release(&wanted);
        if (bitmap.obj != NULL)
            PyBuffer_Release(&bitmap);
        PyErr_SetString(PyExc_ValueError, "search: start out of range, or wanted is not an array of uint64");
        return NULL;
    }
    Py_BEGIN_ALLOW_THREADS
    const unsigned char *s = block.buf;
    Wanted set = {wanted.buf, wanted.len / (Py_ssize_t)sizeof(uint64_t), NULL, 0};
    if (bitmap.obj != NULL && bitmap.len > 0) {
        set.bits = bitmap.buf;
        set.nbits = (uint64_t)bitmap.len * 8;
    }
    Py_ssize_t len = block.len;
    /* Look for the key's 'x': in LoadGen's logs it occurs once per entry ('q' is in "seq_id" too; hex has
     * neither), so memchr runs over whole entries; every candidate is checked against the whole key. */
    Py_ssize_t from = start + X_AT; /* the first place where the 'x' of a key at or after `start` may be */
    counted_end = start;
    while (from < len) {
        const unsigned char *x = memchr(s + from, 'x', (size_t)(len - from));
        if (x == NULL)
            break;
        Py_ssize_t at = (Py_ssize_t)(x - s) - X_AT;
        from = at + X_AT + 1;
        if (s[at] != '"' || at + KEY_LEN > len || memcmp(s + at, KEY, KEY_LEN) != 0)
            continue;
        Py_ssize_t end = match_at(s, len, at, &set);
        if (end >= 0) {
            if (counted_end > at) /* the last counted key overlaps this one: not wholly before the match */
                count--;
            match_start = at;
            match_end = end;
            break;
        }
        if (at >= counted_end) { /* leftmost non-overlapping, as bytes.count */
            count++;
            counted_end = at + KEY_LEN;
        }
    }
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&block);
    PyBuffer_Release(&wanted);
    if (bitmap.obj != NULL)
        PyBuffer_Release(&bitmap);
    return Py_BuildValue("nnn", match_start, match_end, count);
}

static PyMethodDef methods[] = {
    {"search", search, METH_VARARGS,
     "search(block, start, wanted[, bitmap]) -> (match_start, match_end, count): the first wanted \"qsl_idx\" key."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "compliance._scan", NULL, 0, methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__scan(void)
{
    return PyModule_Create(&module);
}
