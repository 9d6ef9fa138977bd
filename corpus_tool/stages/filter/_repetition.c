/* Gopher repetition fractions of many documents, straight from their text: the compiled twin of
 * rules_repetition.repetition_fractions (numpy), which stays the reference. tests/test_filter_native.py
 * checks that both give the same floats.
 *
 * A document's units are its Han characters, punctuation characters and runs of other letters and digits
 * (whitespace removed), hashed as DocView.units does; an n-gram of units is hashed as the polynomial
 * sum(unit[i + j] * P**(n - 1 - j)) modulo 2**64, the value DocView.ngram_hashes gives. Per n (ascending),
 * the grams are grouped by hash in an open-addressing table (linear in the grams, where numpy sorts), and
 * only positions whose previous gram repeated are looked at again. Ties for the top gram go to the
 * smallest hash, as in the numpy code.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define P_MULT 0x9E3779B97F4A7C15ULL
#define SLOT_MIX 0x9E3779B97F4A7C15ULL
#define BUCKET_MIX 0xD6E8FEB86659FD93ULL
enum { SPACE = 1, HAN = 2, PUNCT = 4, ALNUM = 8 };
#define MAX_NS 64

typedef struct {
    uint64_t key;
    int32_t count; /* 0: empty */
    int32_t last;  /* the index (into pos) of its latest member; link[] chains the earlier ones, the first
                      (smallest position: positions arrive in ascending order) ends the chain */
} Slot;

typedef struct {
    uint64_t *base;    /* unit hashes */
    int64_t *uoff;     /* characters before each unit (units + 1) */
    int64_t *npunct;   /* punctuation units before each unit (units + 1) */
    int64_t *cand;     /* candidate positions, ascending */
    int64_t *pos;      /* this n's positions */
    uint64_t *hash;    /* this n's gram hashes */
    int32_t *link;     /* this n's previous member (index into pos) of the same gram, or -1 */
    int64_t *members;  /* 2 * position + (is a repeat that counts), of every member of a repeated group */
    int64_t *groups;   /* this n's slots that hold a repeated gram */
    Slot *slots;
    uint8_t *buckets;  /* the prefilter's counts (0, 1, 2 = twice or more) */
    Py_ssize_t cap, slot_cap, bucket_cap;
} Scratch;

static int grow(Scratch *s, Py_ssize_t units) {
    if (units + 1 <= s->cap) return 0;
    Py_ssize_t cap = units + 1 > 2 * s->cap ? units + 1 : 2 * s->cap;
    void *p;
#define GROW(field, type) \
    if (!(p = realloc(s->field, (size_t)cap * sizeof(type)))) return -1; \
    s->field = (type *)p;
    GROW(base, uint64_t) GROW(uoff, int64_t) GROW(npunct, int64_t) GROW(cand, int64_t)
    GROW(pos, int64_t) GROW(hash, uint64_t) GROW(link, int32_t) GROW(members, int64_t) GROW(groups, int64_t)
#undef GROW
    s->cap = cap;
    return 0;
}

static void release(Scratch *s) {
    free(s->base); free(s->uoff); free(s->npunct); free(s->cand); free(s->pos); free(s->hash); free(s->link); free(s->buckets);
    free(s->members); free(s->groups); free(s->slots);
}

typedef struct {
    int n_ns;
    int64_t ns[MAX_NS];
    int top[MAX_NS], dup[MAX_NS]; /* per n: is a top_n / dup_n value asked for */
    int top_col[MAX_NS], dup_col[MAX_NS]; /* its column in the output row */
    int skip_punct;
    int n_limits;
    int64_t limit_n[2 * MAX_NS];
    int limit_col[2 * MAX_NS];
    double limit_max[2 * MAX_NS];
} Spec;

/* Units of one text; returns the number of units, or -1 when out of memory. */
static Py_ssize_t build_units(PyObject *text, const uint8_t *bits, const uint64_t *pos_mult, Scratch *s,
                              int64_t *n_visible) {
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t len = PyUnicode_GET_LENGTH(text);
    if (grow(s, len) < 0) return -1;
    Py_ssize_t m = 0;
    int64_t vis = 0, unit_pos = 0;
    int prev_word = 0, all_single = 1;
    for (Py_ssize_t i = 0; i < len; i++) {
        Py_UCS4 cp = PyUnicode_READ(kind, data, i);
        uint8_t cls = cp < 0x110000 ? bits[cp] : 0;
        int word = (cls & ALNUM) && !(cls & HAN);
        if (cls & SPACE) {
            prev_word = 0;
            continue;
        }
        vis++;
        if (word && prev_word) { /* the word goes on */
            unit_pos++;
            s->base[m - 1] += (uint64_t)cp * pos_mult[unit_pos & 63];
            s->uoff[m] += 1;
            all_single = 0;
        } else {
            unit_pos = 0;
            s->base[m] = (uint64_t)cp * pos_mult[0];
            s->npunct[m + 1] = (cls & PUNCT) ? 1 : 0;
            s->uoff[m + 1] = 1;
            m++;
        }
        prev_word = word;
    }
    if (all_single && m) { /* every unit one character: the raw code points are the hashes */
        Py_ssize_t u = 0;
        for (Py_ssize_t i = 0; i < len; i++) {
            Py_UCS4 cp = PyUnicode_READ(kind, data, i);
            uint8_t cls = cp < 0x110000 ? bits[cp] : 0;
            if (!(cls & SPACE)) s->base[u++] = cp;
        }
    }
    s->uoff[0] = 0;
    s->npunct[0] = 0;
    for (Py_ssize_t u = 0; u < m; u++) { /* lengths and flags -> prefix sums */
        s->uoff[u + 1] += s->uoff[u];
        s->npunct[u + 1] += s->npunct[u];
    }
    *n_visible = vis;
    return m;
}

static int compare_int64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Is the first failing check of this document known before n is computed? */
static int decided(const Spec *sp, const double *row, int64_t n) {
    for (int k = 0; k < sp->n_limits; k++) {
        if (sp->limit_n[k] >= n) return 0;
        if (row[sp->limit_col[k]] > sp->limit_max[k]) return 1;
    }
    return 0;
}

static int document(PyObject *text, const uint8_t *bits, const uint64_t *pos_mult, const Spec *sp,
                    Scratch *s, double *row) {
    int64_t nvis = 0;
    Py_ssize_t m = build_units(text, bits, pos_mult, s, &nvis);
    if (m < 0) return -1;
    if (m == 0 || nvis == 0) return 0;
    Py_ssize_t n_cand = m;
    for (Py_ssize_t i = 0; i < m; i++) s->cand[i] = i;
    for (int k = 0; k < sp->n_ns; k++) {
        int64_t n = sp->ns[k];
        if (sp->n_limits && k > 0 && decided(sp, row, n)) break;
        Py_ssize_t K = 0;
        for (Py_ssize_t c = 0; c < n_cand; c++)
            if (s->cand[c] + n <= m) s->pos[K++] = s->cand[c];
        if (K < 2) break;
        for (Py_ssize_t j = 0; j < K; j++) {
            const uint64_t *b = s->base + s->pos[j];
            uint64_t h = 0;
            for (int64_t q = 0; q < n; q++) h = h * P_MULT + b[q];
            s->hash[j] = h;
        }
        if (K > 64) { /* a gram alone in its bucket of a small count table cannot repeat: drop it before the
                         hash table (most grams of real text are unique, and the counts stay in cache) */
            Py_ssize_t nb = 64;
            int bshift = 58;
            while (nb < 4 * K) nb <<= 1, bshift--;
            if (nb > s->bucket_cap) {
                uint8_t *p = realloc(s->buckets, (size_t)nb);
                if (!p) return -1;
                s->buckets = p;
                s->bucket_cap = nb;
            }
            memset(s->buckets, 0, (size_t)nb);
            for (Py_ssize_t j = 0; j < K; j++) {
                uint8_t *c = &s->buckets[(s->hash[j] * BUCKET_MIX) >> bshift];
                if (*c < 2) (*c)++;
            }
            Py_ssize_t kept = 0;
            for (Py_ssize_t j = 0; j < K; j++) {
                if (s->buckets[(s->hash[j] * BUCKET_MIX) >> bshift] < 2) continue;
                s->pos[kept] = s->pos[j];
                s->hash[kept++] = s->hash[j];
            }
            K = kept;
            if (K < 2) break;
        }
        Py_ssize_t size = 4;
        while (size < 2 * K) size <<= 1;
        if (size > s->slot_cap) {
            Slot *p = realloc(s->slots, (size_t)size * sizeof(Slot));
            if (!p) return -1;
            s->slots = p;
            s->slot_cap = size;
        }
        memset(s->slots, 0, (size_t)size * sizeof(Slot));
        int shift = 64;
        for (Py_ssize_t v = size; v > 1; v >>= 1) shift--;
        Py_ssize_t repeated = 0;
        for (Py_ssize_t j = 0; j < K; j++) {
            uint64_t h = s->hash[j];
            Py_ssize_t at = (Py_ssize_t)((h * SLOT_MIX) >> shift);
            while (s->slots[at].count && s->slots[at].key != h) at = (at + 1) & (size - 1);
            Slot *sl = &s->slots[at];
            if (!sl->count) {
                sl->key = h;
                s->link[j] = -1;
            } else {
                if (sl->count == 1) s->groups[repeated++] = at;
                s->link[j] = sl->last;
            }
            sl->last = (int32_t)j;
            sl->count++;
        }
        if (!repeated) break;
        if (sp->top[k]) {
            const Slot *best = NULL;
            int64_t at_best = 0; /* any member of the best gram: all have its length and punctuation */
            for (Py_ssize_t g = 0; g < repeated; g++) {
                const Slot *sl = &s->slots[s->groups[g]];
                int64_t p = s->pos[sl->last];
                if (sp->skip_punct && s->npunct[p + n] - s->npunct[p] >= n) continue;
                if (!best || sl->count > best->count || (sl->count == best->count && sl->key < best->key)) {
                    best = sl;
                    at_best = p;
                }
            }
            if (best)
                row[sp->top_col[k]] =
                    (double)((int64_t)best->count * (s->uoff[at_best + n] - s->uoff[at_best])) / (double)nvis;
        }
        /* every member of a repeated group, in position order; a repeat (not the group's first) counts
         * towards dup_n unless the gram is all punctuation and those are skipped */
        Py_ssize_t n_members = 0;
        for (Py_ssize_t g = 0; g < repeated; g++) {
            const Slot *sl = &s->slots[s->groups[g]];
            int64_t p0 = s->pos[sl->last];
            int counts = sp->dup[k] && !(sp->skip_punct && s->npunct[p0 + n] - s->npunct[p0] >= n);
            for (int32_t j = sl->last; j >= 0; j = s->link[j])
                s->members[n_members++] = 2 * s->pos[j] + (counts && s->link[j] >= 0);
        }
        qsort(s->members, (size_t)n_members, sizeof(int64_t), compare_int64);
        int64_t covered = 0, prev_end = 0;
        Py_ssize_t next = 0;
        for (Py_ssize_t g = 0; g < n_members; g++) {
            int64_t p = s->members[g] >> 1;
            s->cand[next++] = p;
            if (!(s->members[g] & 1)) continue;
            int64_t lo = p > prev_end ? p : prev_end;
            int64_t added = s->uoff[p + n] - s->uoff[lo];
            if (added > 0) covered += added;
            prev_end = p + n;
        }
        if (sp->dup[k]) row[sp->dup_col[k]] = (double)covered / (double)nvis;
        n_cand = next;
    }
    return 0;
}

static int read_buffer(PyObject *obj, Py_buffer *view, Py_ssize_t min_bytes, const char *what) {
    if (PyObject_GetBuffer(obj, view, PyBUF_SIMPLE) < 0) return -1;
    if (view->len < min_bytes) {
        PyErr_Format(PyExc_ValueError, "%s: %zd bytes, need %zd", what, view->len, min_bytes);
        PyBuffer_Release(view);
        return -1;
    }
    return 0;
}

static PyObject *repetition(PyObject *self, PyObject *args) {
    PyObject *texts, *bits_obj, *mult_obj, *ns_obj, *tops_obj, *dups_obj, *limits_obj;
    int skip_punct;
    if (!PyArg_ParseTuple(args, "O!OOO!O!O!pO!", &PyList_Type, &texts, &bits_obj, &mult_obj, &PyTuple_Type,
                          &ns_obj, &PyTuple_Type, &tops_obj, &PyTuple_Type, &dups_obj, &skip_punct,
                          &PyTuple_Type, &limits_obj))
        return NULL;
    Spec sp;
    memset(&sp, 0, sizeof sp);
    sp.skip_punct = skip_punct;
    sp.n_ns = (int)PyTuple_GET_SIZE(ns_obj);
    if (sp.n_ns > MAX_NS || PyTuple_GET_SIZE(tops_obj) + PyTuple_GET_SIZE(dups_obj) > 2 * MAX_NS ||
        PyTuple_GET_SIZE(limits_obj) > 2 * MAX_NS) {
        PyErr_SetString(PyExc_ValueError, "too many n-gram sizes");
        return NULL;
    }
    for (int k = 0; k < sp.n_ns; k++) {
        sp.ns[k] = PyLong_AsLongLong(PyTuple_GET_ITEM(ns_obj, k));
        if (sp.ns[k] < 1 || (k && sp.ns[k] <= sp.ns[k - 1])) {
            if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "ns must be ascending and >= 1");
            return NULL;
        }
    }
    /* columns: tops in their given order, then dups; each names one of ns */
    int n_cols = 0;
    PyObject *lists[2] = {tops_obj, dups_obj};
    for (int which = 0; which < 2; which++) {
        for (Py_ssize_t c = 0; c < PyTuple_GET_SIZE(lists[which]); c++, n_cols++) {
            long long n = PyLong_AsLongLong(PyTuple_GET_ITEM(lists[which], c));
            int k = 0;
            while (k < sp.n_ns && sp.ns[k] != n) k++;
            if (k == sp.n_ns) {
                if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "a top/dup n is not in ns");
                return NULL;
            }
            if (which == 0) { sp.top[k] = 1; sp.top_col[k] = n_cols; }
            else { sp.dup[k] = 1; sp.dup_col[k] = n_cols; }
        }
    }
    sp.n_limits = (int)PyTuple_GET_SIZE(limits_obj);
    for (int k = 0; k < sp.n_limits; k++) { /* (column, n, maximum) in the rule's order */
        PyObject *t = PyTuple_GET_ITEM(limits_obj, k);
        if (!PyTuple_Check(t) || PyTuple_GET_SIZE(t) != 3) {
            PyErr_SetString(PyExc_ValueError, "limits are (column, n, maximum) tuples");
            return NULL;
        }
        sp.limit_col[k] = (int)PyLong_AsLong(PyTuple_GET_ITEM(t, 0));
        sp.limit_n[k] = PyLong_AsLongLong(PyTuple_GET_ITEM(t, 1));
        sp.limit_max[k] = PyFloat_AsDouble(PyTuple_GET_ITEM(t, 2));
        if (PyErr_Occurred()) return NULL;
        if (sp.limit_col[k] < 0 || sp.limit_col[k] >= n_cols) {
            PyErr_SetString(PyExc_ValueError, "a limit's column is out of range");
            return NULL;
        }
    }
    Py_buffer bits, mult;
    if (read_buffer(bits_obj, &bits, 0x110000, "bits") < 0) return NULL;
    if (read_buffer(mult_obj, &mult, 64 * 8, "pos_mult") < 0) {
        PyBuffer_Release(&bits);
        return NULL;
    }
    Py_ssize_t n_docs = PyList_GET_SIZE(texts);
    PyObject *out = PyList_New(n_docs);
    Scratch s;
    memset(&s, 0, sizeof s);
    double row[2 * MAX_NS];
    for (Py_ssize_t d = 0; out && d < n_docs; d++) {
        PyObject *text = PyList_GET_ITEM(texts, d);
        if (!PyUnicode_Check(text)) {
            PyErr_SetString(PyExc_TypeError, "texts must be str");
            Py_CLEAR(out);
            break;
        }
        if (PyUnicode_GET_LENGTH(text) >= INT32_MAX) {
            PyErr_SetString(PyExc_ValueError, "a text of 2**31 characters or more");
            Py_CLEAR(out);
            break;
        }
        for (int c = 0; c < n_cols; c++) row[c] = 0.0;
        if (document(text, bits.buf, mult.buf, &sp, &s, row) < 0) {
            PyErr_NoMemory();
            Py_CLEAR(out);
            break;
        }
        PyObject *vals = PyTuple_New(n_cols);
        if (!vals) {
            Py_CLEAR(out);
            break;
        }
        for (int c = 0; c < n_cols; c++) {
            PyObject *f = PyFloat_FromDouble(row[c]);
            if (!f) {
                Py_DECREF(vals);
                vals = NULL;
                break;
            }
            PyTuple_SET_ITEM(vals, c, f);
        }
        if (!vals) {
            Py_CLEAR(out);
            break;
        }
        PyList_SET_ITEM(out, d, vals);
    }
    release(&s);
    PyBuffer_Release(&bits);
    PyBuffer_Release(&mult);
    return out;
}

static PyMethodDef methods[] = {
    {"repetition", repetition, METH_VARARGS,
     "repetition(texts, bits, pos_mult, ns, tops, dups, skip_punct, limits) -> [(top_n..., dup_n...)]\n\n"
     "Gopher repetition fractions of each text (rules_repetition.repetition_fractions, compiled). `bits` is\n"
     "the filter's class table (uint8 per code point), `pos_mult` the 64 unit multipliers; `limits` is\n"
     "((column, n, maximum), ...) in the rule's order, or () to compute every value."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_repetition", NULL, -1, methods};

PyMODINIT_FUNC PyInit__repetition(void) { return PyModule_Create(&module); }
