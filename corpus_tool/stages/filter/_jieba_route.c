/* jieba's segmentation of one block of text, compiled, for jieba_window.JiebaWindow: the dictionary's best
 * route (`Tokenizer.get_DAG` then `Tokenizer.calc`) and the HMM's best states for a run of single
 * characters (`finalseg.viterbi`). The route uses the same dictionary (jieba's FREQ dict, looked up with
 * the same substrings), the same arithmetic in the same order ((log(freq or 1) - logtotal) + route[x + 1],
 * C's log being the one math.log calls) and the same tie rule as Python's max over (value, x) tuples (the
 * larger x wins a tie). So both are jieba's own answers; tests/test_jieba_window.py checks them against
 * jieba on real and generated text.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#define MEMO_MAX 200000 /* fragments remembered per memo dict */

/* FREQ.get(s[k:i + 1]): a new reference or NULL (absent); -1 in *err on a Python error. `memo` (a dict, or
 * NULL) remembers the answers for fragments seen before (None for absent): jieba's FREQ holds half a
 * million words, so most of its lookups miss the CPU caches, while the fragments of real text repeat. */
static PyObject *lookup(PyObject *freq, PyObject *memo, PyObject *s, Py_ssize_t k, Py_ssize_t i, int *err) {
    PyObject *frag = PyUnicode_Substring(s, k, i + 1);
    if (!frag) {
        *err = -1;
        return NULL;
    }
    PyObject *v = memo ? PyDict_GetItemWithError(memo, frag) : NULL;
    if (v) {
        Py_DECREF(frag);
        if (v == Py_None) return NULL;
        Py_INCREF(v);
        return v;
    }
    if (PyErr_Occurred()) goto fail;
    v = PyDict_GetItemWithError(freq, frag);
    if (!v && PyErr_Occurred()) goto fail;
    if (memo && PyDict_GET_SIZE(memo) < MEMO_MAX && PyDict_SetItem(memo, frag, v ? v : Py_None) < 0) goto fail;
    Py_DECREF(frag);
    Py_XINCREF(v);
    return v;
fail:
    Py_DECREF(frag);
    *err = -1;
    return NULL;
}

enum { EMPTY = 0, ABSENT = 1, FALSY = 2, TRUTHY = 3 };

/* A FREQ value (NULL: absent) as a state: ABSENT, FALSY (a prefix only) or TRUTHY with float(value) in *f;
 * -1 on a Python error. */
static int value_state(PyObject *v, double *f) {
    *f = 0.0;
    if (!v) return ABSENT;
    int truthy = PyObject_IsTrue(v);
    if (truthy < 0) return -1;
    if (!truthy) return FALSY;
    *f = PyFloat_AsDouble(v);
    return *f == -1.0 && PyErr_Occurred() ? -1 : TRUTHY;
}

/* The state of s[k:i + 1] through `lookup` (a dict memo or none). */
static int dict_state(PyObject *freq, PyObject *memo, PyObject *s, Py_ssize_t k, Py_ssize_t i, double *f) {
    int err = 0;
    PyObject *v = lookup(freq, memo, s, k, i, &err);
    if (err) return -1;
    int state = value_state(v, f);
    Py_XDECREF(v);
    return state;
}

/* Append a DAG edge (its end and log(freq)), growing both arrays; -1 when out of memory. */
static int push(Py_ssize_t **ends, double **logf, Py_ssize_t *used, Py_ssize_t *cap, Py_ssize_t end, double f) {
    if (*used == *cap) {
        Py_ssize_t *e2 = realloc(*ends, (size_t)(2 * *cap) * sizeof(Py_ssize_t));
        if (e2) *ends = e2;
        double *l2 = realloc(*logf, (size_t)(2 * *cap) * sizeof(double));
        if (l2) *logf = l2;
        if (!e2 || !l2) {
            PyErr_NoMemory();
            return -1;
        }
        *cap *= 2;
    }
    (*ends)[*used] = end;
    (*logf)[*used] = log(f);
    (*used)++;
    return 0;
}

/* The best route over the DAG (jieba's calc): for each position k, where its word ends, in best_end[k]. */
static void best_route(Py_ssize_t n, const Py_ssize_t *dag_start, const Py_ssize_t *ends, const double *logf,
                       double logtotal, double *best, Py_ssize_t *best_end) {
    best[n] = 0.0;
    for (Py_ssize_t k = n - 1; k >= 0; k--) {
        double bv = 0.0;
        Py_ssize_t bx = -1;
        for (Py_ssize_t j = dag_start[k]; j < dag_start[k + 1]; j++) {
            double v = (logf[j] - logtotal) + best[ends[j] + 1];
            if (bx < 0 || v > bv || (v == bv && ends[j] > bx)) {
                bv = v;
                bx = ends[j];
            }
        }
        best[k] = bv;
        best_end[k] = bx;
    }
}

/* Memo: jieba's FREQ answers for fragments seen before, keyed by their code points, so that a fragment
 * met again costs a hash of its characters and no str of its own (PyUnicode_Substring plus a dict lookup
 * for every fragment was most of the route's time). Open addressing, at most MEMO_MAX fragments. */
typedef struct {
    uint64_t hash;
    Py_ssize_t off; /* the fragment's code points: arena[off : off + len] */
    Py_ssize_t len;
    double f; /* float(FREQ[frag]) when TRUTHY */
    int state;
} Slot;

typedef struct {
    PyObject_HEAD
    Slot *slots;
    Py_ssize_t mask, used;
    Py_UCS4 *arena;
    Py_ssize_t arena_used, arena_cap;
} MemoObject;

static void memo_dealloc(MemoObject *m) {
    free(m->slots);
    free(m->arena);
    Py_TYPE(m)->tp_free((PyObject *)m);
}

static Py_ssize_t memo_length(PyObject *m) { return ((MemoObject *)m)->used; }
static PySequenceMethods memo_as_sequence = {.sq_length = memo_length};

static PyTypeObject MemoType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "corpus_tool.stages.filter._jieba_route.Memo",
    .tp_basicsize = sizeof(MemoObject),
    .tp_dealloc = (destructor)memo_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Memo(): route()'s memory of one FREQ dict's answers; make a new one when FREQ changes.",
    .tp_new = PyType_GenericNew,
    .tp_as_sequence = &memo_as_sequence,
};

static inline uint64_t mix(uint64_t h, Py_UCS4 c) { return (h ^ c) * 0x100000001b3ULL; }

/* The slot of s[k:i + 1] (hash h): its entry, or the empty slot where it would go. */
static Slot *memo_find(MemoObject *m, uint64_t h, int kind, const void *data, Py_ssize_t k, Py_ssize_t i) {
    Py_ssize_t len = i + 1 - k;
    for (Py_ssize_t j = (Py_ssize_t)(h & (uint64_t)m->mask);; j = (j + 1) & m->mask) {
        Slot *e = &m->slots[j];
        if (e->state == EMPTY) return e;
        if (e->hash != h || e->len != len) continue;
        const Py_UCS4 *key = m->arena + e->off;
        Py_ssize_t x = 0;
        while (x < len && key[x] == PyUnicode_READ(kind, data, k + x)) x++;
        if (x == len) return e;
    }
}

/* Remember the answer for s[k:i + 1] in the empty slot `e`; a full memo or no memory: not remembered. */
static void memo_store(MemoObject *m, Slot *e, uint64_t h, int kind, const void *data, Py_ssize_t k,
                       Py_ssize_t i, int state, double f) {
    Py_ssize_t len = i + 1 - k;
    if (m->used >= MEMO_MAX) return;
    if (m->arena_used + len > m->arena_cap) {
        Py_ssize_t cap = 2 * m->arena_cap + len + 1024;
        Py_UCS4 *a = realloc(m->arena, (size_t)cap * sizeof(Py_UCS4));
        if (!a) return;
        m->arena = a;
        m->arena_cap = cap;
    }
    for (Py_ssize_t x = 0; x < len; x++) m->arena[m->arena_used + x] = PyUnicode_READ(kind, data, k + x);
    e->hash = h;
    e->off = m->arena_used;
    e->len = len;
    e->f = f;
    e->state = state;
    m->arena_used += len;
    m->used++;
}

/* FREQ.get(s[k:i + 1]) as a state (ABSENT, FALSY, TRUTHY with *f), through the memo; -1 on a Python error. */
static int memo_lookup(MemoObject *m, PyObject *freq, PyObject *s, int kind, const void *data, Py_ssize_t k,
                       Py_ssize_t i, uint64_t h, double *f) {
    Slot *e = memo_find(m, h, kind, data, k, i);
    if (e->state != EMPTY) {
        *f = e->f;
        return e->state;
    }
    PyObject *frag = PyUnicode_Substring(s, k, i + 1);
    if (!frag) return -1;
    PyObject *v = PyDict_GetItemWithError(freq, frag); /* borrowed */
    Py_DECREF(frag);
    if (!v && PyErr_Occurred()) return -1;
    int state = value_state(v, f);
    if (state > 0) memo_store(m, e, h, kind, data, k, i, state, *f);
    return state;
}

static int memo_ready(MemoObject *m) {
    if (m->slots) return 0;
    Py_ssize_t cap = 1;
    while (cap < 2 * MEMO_MAX + 1) cap <<= 1; /* at most half full */
    m->slots = calloc((size_t)cap, sizeof(Slot));
    if (!m->slots) {
        PyErr_NoMemory();
        return -1;
    }
    m->mask = cap - 1;
    return 0;
}

/* route()'s `memo` argument: a Memo (in *m), a dict (in *dict_memo) or None; -1 (an exception) otherwise. */
static int parse_memo(PyObject *memo, MemoObject **m, PyObject **dict_memo) {
    *m = NULL;
    *dict_memo = NULL;
    if (!memo || memo == Py_None) return 0;
    if (PyObject_TypeCheck(memo, &MemoType)) {
        *m = (MemoObject *)memo;
        return memo_ready(*m);
    }
    if (PyDict_Check(memo)) {
        *dict_memo = memo;
        return 0;
    }
    PyErr_SetString(PyExc_TypeError, "route: memo must be a Memo, a dict or None");
    return -1;
}

/* The best route of block `s` (n characters) into best_end[0:n]; -1 on an error (an exception set). */
static int route_into(PyObject *s, PyObject *freq, double logtotal, MemoObject *m, PyObject *memo,
                      Py_ssize_t *best_end) {
    int kind = PyUnicode_KIND(s);
    const void *data = PyUnicode_DATA(s);
    Py_ssize_t n = PyUnicode_GET_LENGTH(s);
    /* dag[k]: the ends i (ascending) of the dictionary words s[k:i + 1]; weight[k][j]: log(freq) of each */
    Py_ssize_t *dag_start = malloc((size_t)(n + 1) * sizeof(Py_ssize_t));
    Py_ssize_t cap = 4 * n + 4, used = 0;
    Py_ssize_t *ends = malloc((size_t)cap * sizeof(Py_ssize_t));
    double *logf = malloc((size_t)cap * sizeof(double));
    double *best = malloc((size_t)(n + 1) * sizeof(double));
    int rc = -1;
    if (!dag_start || !ends || !logf || !best) {
        PyErr_NoMemory();
        goto done;
    }
#define STATE(i, h) (m ? memo_lookup(m, freq, s, kind, data, k, (i), (h), &f) : dict_state(freq, memo, s, k, (i), &f))
    for (Py_ssize_t k = 0; k < n; k++) {
        dag_start[k] = used;
        uint64_t h = 0xcbf29ce484222325ULL, h1 = 0; /* the hash of s[k:i + 1], of s[k] alone */
        double f;
        for (Py_ssize_t i = k; i < n; i++) {
            h = mix(h, PyUnicode_READ(kind, data, i));
            if (i == k) h1 = h;
            int state = STATE(i, h);
            if (state < 0) goto done;
            if (state == ABSENT) break; /* not even a prefix of a word: the DAG stops here */
            if (state == FALSY) continue; /* a prefix only */
            if (push(&ends, &logf, &used, &cap, i, f) < 0) goto done;
        }
        if (used == dag_start[k]) { /* no word starts here: the character alone, FREQ.get(...) or 1 */
            int state = STATE(k, h1);
            if (state < 0) goto done;
            if (push(&ends, &logf, &used, &cap, k, state == TRUTHY ? f : 1.0) < 0) goto done;
        }
    }
#undef STATE
    dag_start[n] = used;
    best_route(n, dag_start, ends, logf, logtotal, best, best_end);
    rc = 0;
done:
    free(dag_start);
    free(ends);
    free(logf);
    free(best);
    return rc;
}

static PyObject *route(PyObject *self, PyObject *args) {
    PyObject *s, *freq, *memo = NULL, *dict_memo;
    double logtotal;
    MemoObject *m;
    if (!PyArg_ParseTuple(args, "UO!d|O", &s, &PyDict_Type, &freq, &logtotal, &memo)) return NULL;
    if (parse_memo(memo, &m, &dict_memo) < 0) return NULL;
    Py_ssize_t n = PyUnicode_GET_LENGTH(s);
    Py_ssize_t *best_end = malloc((size_t)(n + 1) * sizeof(Py_ssize_t));
    if (!best_end) return PyErr_NoMemory();
    PyObject *out = NULL;
    if (route_into(s, freq, logtotal, m, dict_memo, best_end) == 0) {
        out = PyList_New(n);
        for (Py_ssize_t k = 0; out && k < n; k++) {
            PyObject *x = PyLong_FromSsize_t(best_end[k]);
            if (!x) {
                Py_CLEAR(out);
                break;
            }
            PyList_SET_ITEM(out, k, x);
        }
    }
    free(best_end);
    return out;
}

/* jieba.finalseg.viterbi(block, 'BMES', start_p, trans_p, emit_p)[1] as a str of state letters. States are
 * indexed B, M, E, S; `start` and `trans` (4 and 16 floats, row = from) are jieba's tables with
 * MIN_FLOAT where a transition is missing, `emit` the four emission dicts. Each step adds in jieba's
 * order ((V[t - 1][y0] + trans) + emit) and breaks ties as max over (value, state letter) does. */
#define MIN_FLOAT (-3.14e100)
static const char LETTER[4] = {'B', 'M', 'E', 'S'};
static const int PREV[4][2] = {{2, 3}, {1, 0}, {0, 1}, {3, 2}}; /* PrevStatus: B 'ES', M 'MB', E 'BM', S 'SE' */

static int emissions(PyObject *emit, PyObject *ch, double out[4]) {
    for (int y = 0; y < 4; y++) {
        PyObject *v = PyDict_GetItemWithError(PyTuple_GET_ITEM(emit, y), ch);
        if (!v && PyErr_Occurred()) return -1;
        out[y] = v ? PyFloat_AsDouble(v) : MIN_FLOAT;
        if (out[y] == -1.0 && PyErr_Occurred()) return -1;
    }
    return 0;
}

/* jieba's HMM tables from hmm_states()' arguments; -1 (an exception) when they are malformed. */
static int parse_hmm(PyObject *start_obj, PyObject *trans_obj, PyObject *emit, double start[4], double trans[4][4]) {
    if (PyTuple_GET_SIZE(start_obj) != 4 || PyTuple_GET_SIZE(trans_obj) != 16 || PyTuple_GET_SIZE(emit) != 4) {
        PyErr_SetString(PyExc_ValueError, "need 4 start, 16 transition values and 4 emission dicts");
        return -1;
    }
    for (int y = 0; y < 4; y++)
        if (!PyDict_Check(PyTuple_GET_ITEM(emit, y))) {
            PyErr_SetString(PyExc_TypeError, "emission tables must be dicts");
            return -1;
        }
    for (int y = 0; y < 4; y++) start[y] = PyFloat_AsDouble(PyTuple_GET_ITEM(start_obj, y));
    for (int k = 0; k < 16; k++) trans[k / 4][k % 4] = PyFloat_AsDouble(PyTuple_GET_ITEM(trans_obj, k));
    return PyErr_Occurred() ? -1 : 0;
}

/* The best HMM path of s[lo:hi] as state letters in letters[0:hi - lo]; -1 on an error. */
static int viterbi_letters(PyObject *s, Py_ssize_t lo, Py_ssize_t hi, const double start[4],
                           const double trans[4][4], PyObject *emit, char *letters) {
    Py_ssize_t n = hi - lo;
    if (n <= 0) return 0;
    unsigned char *back = malloc((size_t)n * 4);
    if (!back) {
        PyErr_NoMemory();
        return -1;
    }
    double v[4], w[4], em[4];
    for (Py_ssize_t t = 0; t < n; t++) {
        PyObject *ch = PyUnicode_Substring(s, lo + t, lo + t + 1);
        if (!ch) goto fail;
        int bad = emissions(emit, ch, em);
        Py_DECREF(ch);
        if (bad) goto fail;
        if (t == 0) {
            for (int y = 0; y < 4; y++) v[y] = start[y] + em[y];
            continue;
        }
        for (int y = 0; y < 4; y++) {
            int a = PREV[y][0], b = PREV[y][1];
            double va = (v[a] + trans[a][y]) + em[y], vb = (v[b] + trans[b][y]) + em[y];
            int take_b = vb > va || (vb == va && LETTER[b] > LETTER[a]);
            w[y] = take_b ? vb : va;
            back[t * 4 + y] = (unsigned char)(take_b ? b : a);
        }
        for (int y = 0; y < 4; y++) v[y] = w[y];
    }
    int state = v[3] >= v[2] ? 3 : 2; /* max over (V, y) for y in 'ES': S wins a tie */
    for (Py_ssize_t t = n - 1; t >= 0; t--) {
        letters[t] = LETTER[state];
        if (t) state = back[t * 4 + state];
    }
    free(back);
    return 0;
fail:
    free(back);
    return -1;
}

static PyObject *hmm_states(PyObject *self, PyObject *args) {
    PyObject *s, *start_obj, *trans_obj, *emit;
    if (!PyArg_ParseTuple(args, "UO!O!O!", &s, &PyTuple_Type, &start_obj, &PyTuple_Type, &trans_obj,
                          &PyTuple_Type, &emit))
        return NULL;
    double start[4], trans[4][4];
    if (parse_hmm(start_obj, trans_obj, emit, start, trans) < 0) return NULL;
    Py_ssize_t n = PyUnicode_GET_LENGTH(s);
    char *letters = malloc((size_t)n + 1);
    if (!letters) return PyErr_NoMemory();
    PyObject *out = NULL;
    if (viterbi_letters(s, 0, n, start, trans, emit, letters) == 0) out = PyUnicode_FromStringAndSize(letters, n);
    free(letters);
    return out;
}

/* A character of jieba's Han blocks (re_han_default: [\u4E00-\u9FD5a-zA-Z0-9+#&._%-]). */
static inline int in_block(Py_UCS4 c) {
    return (c >= 0x4E00 && c <= 0x9FD5) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '+' || c == '#' || c == '&' || c == '.' || c == '_' || c == '%' ||
           c == '-';
}

/* Does s[lo:lo + len(word)] equal `word`? */
static int same_text(PyObject *s, Py_ssize_t lo, PyObject *word) {
    Py_ssize_t n = PyUnicode_GET_LENGTH(word);
    if (lo < 0 || lo + n > PyUnicode_GET_LENGTH(s)) return 0;
    return PyUnicode_Tailmatch(s, word, lo, lo + n, -1) == 1;
}

/* token_at(window, start, word, freq, logtotal, memo, hmm_start, hmm_trans, hmm_emit) -> True, False or None.
 * JiebaWindow.token_at's answer for a word inside one of jieba's Han blocks: the block's route, the run of
 * single characters that holds `start`, and the HMM's cut of that run, all here. None where the Python code
 * must answer: `start` outside a Han block, or a run that holds characters finalseg does not cut itself. */
static PyObject *token_at(PyObject *self, PyObject *args) {
    PyObject *window, *word, *freq, *memo, *start_obj, *trans_obj, *emit, *dict_memo;
    Py_ssize_t start;
    double logtotal;
    MemoObject *m;
    if (!PyArg_ParseTuple(args, "UnUO!dOO!O!O!", &window, &start, &word, &PyDict_Type, &freq, &logtotal, &memo,
                          &PyTuple_Type, &start_obj, &PyTuple_Type, &trans_obj, &PyTuple_Type, &emit))
        return NULL;
    if (parse_memo(memo, &m, &dict_memo) < 0) return NULL;
    int kind = PyUnicode_KIND(window);
    const void *data = PyUnicode_DATA(window);
    Py_ssize_t n = PyUnicode_GET_LENGTH(window), wlen = PyUnicode_GET_LENGTH(word);
    if (start < 0 || start >= n || wlen == 0 || !in_block(PyUnicode_READ(kind, data, start))) Py_RETURN_NONE;
    Py_ssize_t b = start, e = start; /* the block [b, e) that holds start */
    while (b > 0 && in_block(PyUnicode_READ(kind, data, b - 1))) b--;
    while (e < n && in_block(PyUnicode_READ(kind, data, e))) e++;
    if (start + wlen > e) Py_RETURN_FALSE; /* tokens never cross a block's end */
    PyObject *blk = PyUnicode_Substring(window, b, e);
    if (!blk) return NULL;
    Py_ssize_t len = e - b, q = start - b;
    Py_ssize_t *ends = malloc((size_t)(len + 1) * sizeof(Py_ssize_t));
    char *letters = NULL;
    PyObject *out = NULL;
    if (!ends) {
        PyErr_NoMemory();
        goto done;
    }
    if (route_into(blk, freq, logtotal, m, dict_memo, ends) < 0) goto done;
    Py_ssize_t x = 0, run = 0; /* run: where the current run of single-character words began */
    while (x < len) {
        Py_ssize_t y = ends[x] + 1;
        if (y - x > 1) { /* a dictionary word blk[x:y]: it ends the run of single characters before it */
            if (x <= q && q < y) {
                out = PyBool_FromLong(x == q && y - x == wlen && same_text(blk, x, word));
                goto done;
            }
            if (x > q) break;
            run = y;
        }
        x = y;
    }
    /* q is a single character of the run blk[run:x]: jieba yields the run whole (one character), as its
     * characters (the run is a dictionary word) or as the HMM cuts it */
    if (x - run == 1) {
        out = PyBool_FromLong(wlen == 1 && same_text(blk, run, word));
        goto done;
    }
    PyObject *buf = PyUnicode_Substring(blk, run, x);
    if (!buf) goto done;
    PyObject *v = PyDict_GetItemWithError(freq, buf); /* borrowed */
    Py_DECREF(buf);
    if (!v && PyErr_Occurred()) goto done;
    int truthy = v ? PyObject_IsTrue(v) : 0;
    if (truthy < 0) goto done;
    if (truthy) {
        out = PyBool_FromLong(wlen == 1 && same_text(blk, q, word));
        goto done;
    }
    int kb = PyUnicode_KIND(blk);
    const void *db = PyUnicode_DATA(blk);
    for (Py_ssize_t i = run; i < x; i++) {
        Py_UCS4 c = PyUnicode_READ(kb, db, i);
        if (c < 0x4E00 || c > 0x9FD5) { /* finalseg splits off letters and digits with its own regexes */
            out = Py_None;
            Py_INCREF(out);
            goto done;
        }
    }
    double hstart[4], htrans[4][4];
    if (parse_hmm(start_obj, trans_obj, emit, hstart, htrans) < 0) goto done;
    letters = malloc((size_t)(x - run) + 1);
    if (!letters) {
        PyErr_NoMemory();
        goto done;
    }
    if (viterbi_letters(blk, run, x, hstart, htrans, emit, letters) < 0) goto done;
    Py_ssize_t begin = 0, nexti = 0, at = q - run; /* finalseg's __cut: where each token starts */
    int found = 0;
    for (Py_ssize_t i = 0; i < x - run && !found; i++) {
        char st = letters[i];
        if (st == 'B') {
            begin = i;
        } else if (st == 'E') {
            found = begin == at && i + 1 - begin == wlen && same_text(blk, run + begin, word);
            nexti = i + 1;
        } else if (st == 'S') {
            found = i == at && wlen == 1 && same_text(blk, run + i, word);
            nexti = i + 1;
        }
    }
    if (!found && nexti < x - run) found = nexti == at && x - run - nexti == wlen && same_text(blk, run + nexti, word);
    out = PyBool_FromLong(found);
done:
    Py_DECREF(blk);
    free(ends);
    free(letters);
    return out;
}

static PyMethodDef methods[] = {
    {"hmm_states", hmm_states, METH_VARARGS,
     "hmm_states(block, start, trans, emit) -> 'BMES...'\n\n"
     "The state of each character on jieba.finalseg's best HMM path (viterbi(...)[1]), as letters."},
    {"token_at", token_at, METH_VARARGS,
     "token_at(window, start, word, freq, logtotal, memo, hmm_start, hmm_trans, hmm_emit) -> bool or None\n\n"
     "Does jieba.cut(window, HMM=True) yield `word` as the token at `start`? None where the caller must answer\n"
     "(start outside a Han block, or a run of single characters holding letters or digits)."},
    {"route", route, METH_VARARGS,
     "route(block, freq, logtotal, memo=None) -> [end, ...]\n\n"
     "For each position of `block`, the last position of the word that jieba's best route (get_DAG, calc with\n"
     "dictionary `freq` and log(total) `logtotal`) takes there: route[k][1] of Tokenizer.calc. `memo`, a Memo\n"
     "(or a dict), remembers freq's answers for the next calls; it must be replaced (emptied) if freq changes."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_jieba_route", NULL, -1, methods};

PyMODINIT_FUNC PyInit__jieba_route(void) {
    if (PyType_Ready(&MemoType) < 0) return NULL;
    PyObject *m = PyModule_Create(&module);
    if (!m) return NULL;
    Py_INCREF(&MemoType);
    if (PyModule_AddObject(m, "Memo", (PyObject *)&MemoType) < 0) {
        Py_DECREF(&MemoType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
