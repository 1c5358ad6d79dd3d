/*
 * The redaction pre-scan in C: which raw lines could need the careful pass at all
 * (collector/redact/redactor.py `Redactor.scan`), and for plain ASCII text what the
 * careful pass needs of it (`findings`: the rules that hold, card windows, label starts).
 *
 * Why C: this step looks at every byte of every line the collector reads; a regex engine
 * (google-re2 measured ~2.5 ns a byte here, the pattern having no literal prefix to skip
 * ahead on) would spend most of the redaction budget on it. This pass reads 32 bytes at a
 * time with AVX2 (16 with SSE2, byte by byte elsewhere), without joining the lines
 * (docs/decisions.md, "The redaction pre-scan in C").
 *
 * The rules are not written here: the brand table, the separators and how many may
 * join two digit groups, the label names and the Unicode digits and spaces are handed in
 * at init from the tables the careful pass (detect.py) reads, and the rules below are
 * that pass's rules made wider (no exemptions, no context), never narrower.
 *
 * A line is a candidate when it holds
 *   (A) a chain of digit groups of any sizes joined by up to `max_gap` separator bytes
 *       (cards.py SEPARATORS, MAX_GAP) in which consecutive whole groups of 12-19 digits
 *       fit a brand's prefix and length and pass Luhn; a group of 12+ digits followed
 *       by `^`, or by `=` `D` `d` and seven digits (track data), or with `5A` (EMV tag)
 *       in the four bytes before it; a group of 14+ digits that is an ISO 8583
 *       length-prefixed PAN after a field-2 label or key, or inside a hex token that
 *       opens like an ISO 8583 message (MTI, bitmap, field 2); a `=` and seven digits
 *       after a masked PAN (`4111****1111=2512…`); an ISO 8583 field label `52` followed
 *       by `:`, `=` or `" value=` (a PIN block);
 *   (B) something that can hide a digit or a separator and that the careful pass
 *       decodes (normalize.py): `%` and two hex digits, `\u`, `\x`, `&#`, `&nbsp;`, and
 *       any non-ASCII character that is a Unicode digit or space (the ranges handed in);
 *   (C) a float in exponent form large enough to be a card (`4.1e15`, `4e+15`);
 *   (D) one of the configured names at a word start, in any case, its words joined
 *       by up to two of ` _.-[]`, not followed by a lowercase letter (keys.py's rule).
 * Everything the careful pass can change needs one of these in the raw line, so a line
 * that is not a candidate is left as it is by the walk; the candidates are the lines the
 * walk gets. tests/redact/test_prefilter.py holds that against the redactor, and the
 * vector forms against the byte loop.
 *
 * No byte of a line is copied out or reported: the result is line indices.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

/* Why a line is a candidate: the rules of the header, one bit each (scan.py `Reason`). */
enum {
    R_CARD = 1,          /* (A) a card in a printed grouping */
    R_TRACK1 = 2,        /* (A) 12+ digits then ^ */
    R_TRACK2 = 4,        /* (A) 12+ digits then = D d and seven digits */
    R_EMV = 8,           /* (A) 12+ digits after tag 5A */
    R_LLVAR = 16,        /* (A) ISO 8583 field 2 with its length */
    R_ISO_MESSAGE = 32,  /* (A) ISO 8583 message */
    R_ESCAPE = 64,       /* (B) */
    R_BIG_FLOAT = 128,   /* (C) */
    R_NAME = 256,        /* (D) */
    R_ISO_LABEL = 512,   /* (A) an ISO 8583 field 52 label */
};

enum { C_OTHER = 0, C_DIGIT, C_SEP, C_UPPER, C_LOWER, C_NEWLINE, C_ESC, C_E, C_EQ, C_HIGH };

static unsigned char CLASS[256];
static unsigned char LOWER[256];

static void init_tables(void) {
    for (int c = 0; c < 256; c++) {
        CLASS[c] = C_OTHER;
        LOWER[c] = (unsigned char)c;
    }
    for (int c = '0'; c <= '9'; c++) CLASS[c] = C_DIGIT;
    for (int c = 'a'; c <= 'z'; c++) CLASS[c] = C_LOWER;
    for (int c = 'A'; c <= 'Z'; c++) {
        CLASS[c] = C_UPPER;
        LOWER[c] = (unsigned char)(c - 'A' + 'a');
    }
    CLASS['e'] = C_E; /* a lowercase letter that may also open an exponent */
    CLASS['E'] = C_E;
    CLASS[' '] = C_SEP;
    CLASS['.'] = C_SEP;
    CLASS['+'] = C_SEP;
    CLASS['-'] = C_SEP;
    CLASS['\n'] = C_NEWLINE;
    CLASS['%'] = C_ESC;
    CLASS['\\'] = C_ESC;
    CLASS['&'] = C_ESC;
    CLASS['='] = C_EQ;
    CLASS['^'] = C_EQ;
    for (int c = 0x80; c < 256; c++) CLASS[c] = C_HIGH;
}

static inline int is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
/* A byte as an index of `prefix`: a letter 0-25 (either case), anything else 26. */
static inline int letter_index(unsigned char c) {
    unsigned char l = LOWER[c];
    return l >= 'a' && l <= 'z' ? l - 'a' : 26;
}
static inline int is_alpha(unsigned char c) { return LOWER[c] >= 'a' && LOWER[c] <= 'z'; }
/* Whether s[i] follows an escape `\n`, `\t`, `\r` (a raw JSON line's `…\ncvv: 1`):
 * a word starts there, though a letter comes before it. */
static inline int after_escape(const unsigned char *s, Py_ssize_t i) {
    return i >= 2 && s[i - 2] == '\\';
}

static inline int is_name_sep(unsigned char c) {
    return c == ' ' || c == '_' || c == '.' || c == '-' || c == '[' || c == ']';
}

/* One name: its words, lowercase, joined in `text` with a NUL after each. */
typedef struct {
    char *text;
    int nwords;
} Name;

#define MAX_SECONDS 64

/* A first letter of the names, 32 times; its second letters are seconds[from .. to - 1],
 * or any byte at all (`any` all 0xFF) when a name's first word is that one letter. */
typedef struct {
    unsigned char letter[32];
    unsigned char any[32];
    int from, to;
} FirstLetter;

typedef struct {
    long lo, hi;
    int digits;
    unsigned lengths;
} Range;

typedef struct {
    PyObject_HEAD
    Name *names;
    Py_ssize_t nnames;
    /* names[first[c]] .. names[first[c + 1] - 1] start with letter 'a' + c */
    Py_ssize_t first[27];
    /* The names' first two letters, as broadcasts for the vector pass's filter. */
    FirstLetter firsts[26];
    int nfirsts;
    unsigned char seconds[MAX_SECONDS][32];
    /* The same as nibble tables (each 16 bytes twice, for AVX2's two lanes): bit k of
     * first_lo[b & 15] & first_hi[b >> 4] says b may be first letter k (mod 8);
     * of second_lo / second_hi, that b may follow first letter k. */
    unsigned char first_lo[32], first_hi[32], second_lo[32], second_hi[32];
    /* and of third_lo / third_hi, that b (lowercased) may come third after first letter
     * k: the first word's third letter, or any byte when the first word is shorter. */
    unsigned char third_lo[32], third_hi[32];
    /* The bytes of a chain as nibble tables too: bit 7 a digit, bit k < 7 separator k
     * (exact with up to seven separators; `chain_tables` is 0 with eight). */
    unsigned char chain_lo[32], chain_hi[32];
    int chain_tables;
    /* [first][second][third] letter of a word start (26: not a letter): whether a name
     * may start so. A name whose first word is shorter admits any letter after it. */
    unsigned char prefix[26][27][27];
    /* The brand table: inclusive ranges of a PAN's first `digits` digits, and the PAN
     * lengths issued in that range (bit n: length n). */
    Range *ranges;
    Py_ssize_t nranges;
    /* Words that say "card" before a 12-digit number (keys.py CARD_WORDS, lowercase):
     * anywhere, and as whole words; each NUL-terminated, the list ended by an empty one. */
    char card_words[128];
    char card_words_whole[128];
    /* The separators that may join a card's digit groups, and how many in a row. */
    unsigned char sep[256];
    unsigned char seps[8];
    int nseps;
    int max_gap;
    /* Non-ASCII code points the careful pass decodes (Unicode digits and spaces),
     * inclusive ranges sorted. */
    unsigned *uni_lo, *uni_hi;
    Py_ssize_t nuni;
    /* HTML entity names that stand for a space or a dash (`thinsp`, `ndash`), each
     * NUL-terminated, the list ended by an empty one. */
    char entities[1024];
} Prefilter;

static void free_names(Prefilter *self) {
    if (self->names != NULL) {
        for (Py_ssize_t i = 0; i < self->nnames; i++) PyMem_Free(self->names[i].text);
        PyMem_Free(self->names);
        self->names = NULL;
    }
    self->nnames = 0;
}

static void Prefilter_dealloc(Prefilter *self) {
    free_names(self);
    PyMem_Free(self->ranges);
    PyMem_Free(self->uni_lo);
    PyMem_Free(self->uni_hi);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* ranges: a list of (lo, hi, digits, lengths mask) tuples (cards.py `BRANDS`) */
static int init_ranges(Prefilter *self, PyObject *ranges) {
    Py_ssize_t n = PyList_GET_SIZE(ranges);
    PyMem_Free(self->ranges);
    self->ranges = PyMem_Calloc(n > 0 ? (size_t)n : 1, sizeof(Range));
    self->nranges = 0;
    if (self->ranges == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        Range *r = &self->ranges[i];
        if (!PyArg_ParseTuple(PyList_GET_ITEM(ranges, i), "lliI", &r->lo, &r->hi, &r->digits,
                              &r->lengths))
            return -1;
        if (r->digits < 1 || r->digits > 12) {
            PyErr_SetString(PyExc_ValueError, "a range's prefix has 1 to 12 digits");
            return -1;
        }
        self->nranges = i + 1;
    }
    return 0;
}

/* A list of bytes into `out` (`size` bytes): each NUL-terminated, then an empty one. */
static int init_words(char *out, PyObject *list, size_t size) {
    size_t at = 0;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(list); i++) {
        PyObject *w = PyList_GET_ITEM(list, i);
        if (!PyBytes_Check(w) || PyBytes_GET_SIZE(w) == 0 ||
            at + (size_t)PyBytes_GET_SIZE(w) + 2 > size) {
            PyErr_SetString(PyExc_ValueError, "words: non-empty bytes, too many in all");
            return -1;
        }
        memcpy(out + at, PyBytes_AS_STRING(w), (size_t)PyBytes_GET_SIZE(w) + 1);
        at += (size_t)PyBytes_GET_SIZE(w) + 1;
    }
    out[at] = 0;
    return 0;
}

/* separators: the bytes that may join digit groups (at most 8, none a digit) */
static int init_separators(Prefilter *self, const char *seps, Py_ssize_t n, int max_gap) {
    if (n < 1 || n > 8 || max_gap < 1 || max_gap > 8) {
        PyErr_SetString(PyExc_ValueError, "1 to 8 separators, a gap of 1 to 8");
        return -1;
    }
    memset(self->sep, 0, sizeof(self->sep));
    for (Py_ssize_t k = 0; k < n; k++) {
        unsigned char c = (unsigned char)seps[k];
        if (is_digit(c) || c >= 0x80 || c == '\n') {
            PyErr_SetString(PyExc_ValueError, "a separator is an ASCII non-digit");
            return -1;
        }
        self->sep[c] = 1;
        self->seps[k] = c;
    }
    self->nseps = (int)n;
    self->max_gap = max_gap;
    memset(self->chain_lo, 0, 32);
    memset(self->chain_hi, 0, 32);
    self->chain_tables = n <= 7;
    for (int lane = 0; lane < 32; lane += 16) {
        for (int d = 0; d <= 9; d++) self->chain_lo[lane + d] |= 0x80;
        self->chain_hi[lane + 3] |= 0x80;
        for (Py_ssize_t k = 0; k < n && n <= 7; k++) {
            self->chain_lo[lane + (self->seps[k] & 15)] |= (unsigned char)(1u << k);
            self->chain_hi[lane + (self->seps[k] >> 4)] |= (unsigned char)(1u << k);
        }
    }
    return 0;
}

/* unicode: a list of (lo, hi) code point ranges, sorted */
static int init_unicode(Prefilter *self, PyObject *list) {
    Py_ssize_t n = PyList_GET_SIZE(list);
    PyMem_Free(self->uni_lo);
    PyMem_Free(self->uni_hi);
    self->nuni = 0;
    self->uni_lo = PyMem_Calloc(n > 0 ? (size_t)n : 1, sizeof(unsigned));
    self->uni_hi = PyMem_Calloc(n > 0 ? (size_t)n : 1, sizeof(unsigned));
    if (self->uni_lo == NULL || self->uni_hi == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        if (!PyArg_ParseTuple(PyList_GET_ITEM(list, i), "II", &self->uni_lo[i], &self->uni_hi[i]))
            return -1;
        self->nuni = i + 1;
    }
    return 0;
}

/* names: a list of lists of bytes (keys.py `words` of each name), sorted by first letter */
static int Prefilter_init(Prefilter *self, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"names",   "ranges",  "card_words", "card_words_whole", "separators",
                             "max_gap", "unicode", "entities",   NULL};
    PyObject *names, *ranges, *card_words, *whole, *unicode, *entities;
    const char *seps;
    Py_ssize_t nseps;
    int max_gap;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O!O!O!O!y#iO!O!", kwlist, &PyList_Type, &names,
                                     &PyList_Type, &ranges, &PyList_Type, &card_words,
                                     &PyList_Type, &whole, &seps, &nseps, &max_gap,
                                     &PyList_Type, &unicode, &PyList_Type, &entities))
        return -1;
    if (init_separators(self, seps, nseps, max_gap) < 0) return -1;
    if (init_unicode(self, unicode) < 0) return -1;
    if (init_ranges(self, ranges) < 0) return -1;
    if (init_words(self->card_words, card_words, sizeof(self->card_words)) < 0) return -1;
    if (init_words(self->card_words_whole, whole, sizeof(self->card_words_whole)) < 0) return -1;
    if (init_words(self->entities, entities, sizeof(self->entities)) < 0) return -1;
    free_names(self);
    Py_ssize_t n = PyList_GET_SIZE(names);
    self->names = PyMem_Calloc(n > 0 ? (size_t)n : 1, sizeof(Name));
    if (self->names == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    int prev = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *words = PyList_GET_ITEM(names, i);
        if (!PyList_Check(words) || PyList_GET_SIZE(words) == 0) {
            PyErr_SetString(PyExc_ValueError, "each name is a non-empty list of words");
            return -1;
        }
        Py_ssize_t nw = PyList_GET_SIZE(words), size = 0;
        for (Py_ssize_t w = 0; w < nw; w++) {
            PyObject *word = PyList_GET_ITEM(words, w);
            if (!PyBytes_Check(word) || PyBytes_GET_SIZE(word) == 0) {
                PyErr_SetString(PyExc_ValueError, "each word is non-empty bytes");
                return -1;
            }
            size += PyBytes_GET_SIZE(word) + 1;
        }
        char *text = PyMem_Malloc((size_t)size);
        if (text == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        self->names[i].text = text;
        self->names[i].nwords = (int)nw;
        self->nnames = i + 1;
        for (Py_ssize_t w = 0; w < nw; w++) {
            PyObject *word = PyList_GET_ITEM(words, w);
            memcpy(text, PyBytes_AS_STRING(word), (size_t)PyBytes_GET_SIZE(word) + 1);
            text += PyBytes_GET_SIZE(word) + 1;
        }
        unsigned char c0 = (unsigned char)self->names[i].text[0];
        if (c0 < 'a' || c0 > 'z' || c0 - 'a' < prev) {
            PyErr_SetString(PyExc_ValueError, "names start with a lowercase letter, sorted");
            return -1;
        }
        prev = c0 - 'a';
    }
    memset(self->prefix, 0, sizeof(self->prefix));
    memset(self->first_lo, 0, 32);
    memset(self->first_hi, 0, 32);
    memset(self->second_lo, 0, 32);
    memset(self->second_hi, 0, 32);
    memset(self->third_lo, 0, 32);
    memset(self->third_hi, 0, 32);
    self->nfirsts = 0;
    int nseconds = 0;
    for (Py_ssize_t i = 0; i < self->nnames; i++) {
        const unsigned char *w = (const unsigned char *)self->names[i].text;
        int a = w[0] - 'a';
        for (int b = 0; b < 27; b++) {
            if (w[1] && b != w[1] - 'a') continue;
            for (int c = 0; c < 27; c++)
                if (!(w[1] && w[2]) || c == w[2] - 'a') self->prefix[a][b][c] = 1;
        }
        FirstLetter *fl = self->nfirsts > 0 ? &self->firsts[self->nfirsts - 1] : NULL;
        if (fl == NULL || fl->letter[0] != w[0]) { /* names are sorted */
            fl = &self->firsts[self->nfirsts++];
            memset(fl->letter, w[0], 32);
            memset(fl->any, 0, 32);
            fl->from = fl->to = nseconds;
        }
        unsigned char bit = (unsigned char)(1u << ((self->nfirsts - 1) % 8));
        for (int lane = 0; lane < 32; lane += 16) {
            self->first_lo[lane + (w[0] & 15)] |= bit;
            self->first_hi[lane + (w[0] >> 4)] |= bit;
            for (int k = 0; k < 16; k++) {
                if (!w[1] || (w[1] & 15) == k) self->second_lo[lane + k] |= bit;
                if (!w[1] || (w[1] >> 4) == k) self->second_hi[lane + k] |= bit;
                /* w[2] is 0 when the first word is shorter: any third byte */
                if (!w[1] || !w[2] || (w[2] & 15) == k) self->third_lo[lane + k] |= bit;
                if (!w[1] || !w[2] || (w[2] >> 4) == k) self->third_hi[lane + k] |= bit;
            }
        }
        int seen = 0;
        for (int k = fl->from; k < fl->to; k++) seen |= self->seconds[k][0] == w[1];
        if (seen || fl->any[0]) continue;
        if (!w[1] || nseconds == MAX_SECONDS) {
            memset(fl->any, 0xFF, 32); /* any second byte: the scalar check decides */
            continue;
        }
        memset(self->seconds[nseconds++], w[1], 32);
        fl->to = nseconds;
    }
    Py_ssize_t at = 0;
    for (int c = 0; c <= 26; c++) {
        while (at < self->nnames && (unsigned char)self->names[at].text[0] - 'a' < c) at++;
        self->first[c] = at;
    }
    return 0;
}

/* Whether `name` matches at s[i] (its first letter already known to match). */
static int name_at(const Name *name, const unsigned char *s, Py_ssize_t i, Py_ssize_t n) {
    const unsigned char *w = (const unsigned char *)name->text;
    Py_ssize_t p = i + 1;
    w++;
    for (int k = 0; k < name->nwords; k++) {
        if (k > 0) {
            int seps = 0;
            while (p < n && seps < 2 && is_name_sep(s[p])) {
                p++;
                seps++;
            }
        }
        for (; *w; w++, p++) {
            if (p >= n || LOWER[s[p]] != *w) return 0;
        }
        w++; /* past the NUL: the next word */
    }
    return p >= n || !(s[p] >= 'a' && s[p] <= 'z');
}

/* (C): at s[i] in "eE", whether a float like 4.1e15 or 4e+15 ends here. */
static int big_float_at(const unsigned char *s, Py_ssize_t i, Py_ssize_t n) {
    Py_ssize_t j = i + 1;
    int plus = j < n && s[j] == '+';
    if (plus) j++;
    if (!(j + 1 < n && s[j] == '1' && s[j + 1] >= '1' && s[j + 1] <= '8')) return 0;
    if (i == 0) return 0;
    if (plus && is_digit(s[i - 1])) return 1;
    Py_ssize_t k = i - 1;
    while (k >= 0 && is_digit(s[k])) k--;
    return k >= 1 && s[k] == '.' && is_digit(s[k - 1]);
}

static inline int is_chain_byte(const Prefilter *self, unsigned char c) {
    return is_digit(c) || self->sep[c];
}

static int name_starting_at(const Prefilter *self, const unsigned char *s, Py_ssize_t i,
                            Py_ssize_t n) {
    int l = LOWER[s[i]] - 'a';
    unsigned char second = i + 1 < n ? LOWER[s[i + 1]] : 0;
    for (Py_ssize_t k = self->first[l]; k < self->first[l + 1]; k++) {
        unsigned char w1 = (unsigned char)self->names[k].text[1];
        if (w1 && w1 != second) continue; /* the second letter differs (a one-letter first
                                             word: anything may follow it) */
        if (name_at(&self->names[k], s, i, n)) return 1;
    }
    return 0;
}

/* Whether a name may start at s[i] by its first three letters (the `prefix` table). */
static inline int could_open_name(const Prefilter *self, const unsigned char *s, Py_ssize_t i,
                                  Py_ssize_t n) {
    int b = i + 1 < n ? letter_index(s[i + 1]) : 26;
    int c = i + 2 < n ? letter_index(s[i + 2]) : 26;
    return self->prefix[LOWER[s[i]] - 'a'][b][c];
}

/* --- (A): card data in a chain of digit groups ------------------------------------- */

#define MAX_PAN 19
#define MIN_PAN 12
#define LONG_GROUP 14

typedef struct {
    Py_ssize_t start;
    int len;
    int exempt; /* inside a hex id (detect.py `_exemption` "hex_id"): in no card window */
} Group;

static int luhn_ok(const char *d, int n) {
    int sum = 0;
    for (int k = 0; k < n; k++) {
        int v = d[n - 1 - k] - '0';
        if (k & 1) v = v > 4 ? 2 * v - 9 : 2 * v;
        sum += v;
    }
    return sum % 10 == 0;
}

static int brand_fits(const Prefilter *self, const char *d, int n) {
    for (Py_ssize_t k = 0; k < self->nranges; k++) {
        const Range *r = &self->ranges[k];
        if (!(r->lengths >> n & 1u) || r->digits > n) continue;
        long prefix = 0;
        for (int i = 0; i < r->digits; i++) prefix = prefix * 10 + (d[i] - '0');
        if (r->lo <= prefix && prefix <= r->hi) return 1;
    }
    return 0;
}

/* Whether the groups ending with g[last] (the ones before it in g[0..last-1]) end a
 * card: every window of whole groups, in any grouping. */
static int window_is_card(const Prefilter *self, const unsigned char *s, const Group *g,
                          int last) {
    int total = 0;
    for (int first = last; first >= 0; first--) {
        total += g[first].len;
        if (total > MAX_PAN || g[first].exempt) return 0;
        if (total < MIN_PAN) continue;
        char d[MAX_PAN];
        int n = 0;
        for (int k = first; k <= last; k++) {
            memcpy(d + n, s + g[k].start, (size_t)g[k].len);
            n += g[k].len;
        }
        if (brand_fits(self, d, n) && luhn_ok(d, n)) return 1;
    }
    return 0;
}

static inline int is_hex(unsigned char c) {
    return is_digit(c) || (LOWER[c] >= 'a' && LOWER[c] <= 'f');
}

/* detect.py's `hex_id` exemption, the same rule: the digit group s[start .. end) has hex
 * letters right before and after it, in an all-hex token of 16+ characters with letters
 * inside it, not only at its ends (a trace id, a hash). Exempting no more than the
 * careful pass keeps the scan wider than it. */
static int hex_id_group(const unsigned char *s, Py_ssize_t start, Py_ssize_t end, Py_ssize_t n) {
    if (start == 0 || end >= n || is_digit(s[start - 1]) || !is_hex(s[start - 1]) ||
        is_digit(s[end]) || !is_hex(s[end]))
        return 0;
    Py_ssize_t lo = start, hi = end;
    while (lo > 0 && (is_digit(s[lo - 1]) || is_alpha(s[lo - 1]))) lo--;
    while (hi < n && (is_digit(s[hi]) || is_alpha(s[hi]))) hi++;
    if (hi - lo < 16) return 0;
    for (Py_ssize_t k = lo; k < hi; k++)
        if (!is_hex(s[k])) return 0;
    while (lo < hi && !is_digit(s[lo])) lo++; /* the outer letter blocks stripped, */
    while (hi > lo && !is_digit(s[hi - 1])) hi--;
    for (Py_ssize_t k = lo; k < hi; k++) /* a letter must remain */
        if (!is_digit(s[k])) return 1;
    return 0;
}

/* A field 2 label or key before the digits at s[start] (`DE2=`, `"f2": `, `"2":"`,
 * `LLVAR=`, `id="2" value="`): the chain holds a PAN (with its ISO 8583 length prefix or
 * not) whatever its checksum, which detect.py masks. */
static int pan_label_before(const unsigned char *s, Py_ssize_t start) {
    Py_ssize_t k = start - 1, mark = k;
    while (k >= 0 && !is_digit(s[k]) && !is_alpha(s[k])) k--;
    if (k == mark) return 0; /* glued to a letter or digit (a hex id): not a label's value */
    Py_ssize_t word_end = k + 1;
    for (int letters = 0; k >= 0 && letters < 6 && is_alpha(s[k]); letters++) k--;
    Py_ssize_t len = word_end - (k + 1);
    if ((len == 5 || len == 6) && LOWER[s[word_end - 3]] == 'v' &&
        LOWER[s[word_end - 2]] == 'a' && LOWER[s[word_end - 1]] == 'r')
        return 1; /* `LLVAR=16…`, `LLLVAR 016…`: a length-prefixed field */
    if (len > 0) { /* a word between label and value (`DE002 LLVAR=`, `id="2" value="`) */
        mark = k;
        while (k >= 0 && !is_digit(s[k]) && !is_alpha(s[k])) k--;
        if (k == mark) return 0;
    }
    /* a field-2 label whatever the checksum: detect.py masks what it says is a PAN */
    return k >= 0 && s[k] == '2' && (k == 0 || !is_digit(s[k - 1]) || s[k - 1] == '0');
}

/* An ISO 8583 message dump around the group: a hex token opening with an MTI (4 digits)
 * and a bitmap whose first nibble says field 2 is present, long enough for MTI, bitmap,
 * length and a PAN (text.py `_ISO_MSG`). */
static int iso_message_around(const unsigned char *s, const Group *g, Py_ssize_t n) {
    Py_ssize_t from = g->start, to = g->start + g->len;
    while (from > 0 && is_hex(s[from - 1])) from--;
    while (to < n && is_hex(s[to])) to++;
    if (to - from < 4 + 16 + 2 + MIN_PAN) return 0;
    for (int k = 0; k < 4; k++)
        if (!is_digit(s[from + k])) return 0;
    unsigned char b = LOWER[s[from + 4]];
    return (b >= '4' && b <= '7') || (b >= 'c' && b <= 'f');
}

/* `=` and seven digits, or `^`, after 12-19 bytes of a masked PAN (`4111****1111=2512…`,
 * `B4111****1111^…`): a track whose PAN was masked upstream, SAD on its own (detect.py
 * `_TRACK1`, `_TRACK2`). */
static int masked_track_at(const unsigned char *s, Py_ssize_t at, Py_ssize_t n) {
    for (Py_ssize_t k = at + 1; s[at] == '=' && k <= at + 7; k++)
        if (k >= n || !is_digit(s[k])) return 0;
    Py_ssize_t from = at;
    while (from > 0 && at - from < 19 &&
           (is_digit(s[from - 1]) || s[from - 1] == '*' || LOWER[s[from - 1]] == 'x' ||
            s[from - 1] == '#'))
        from--;
    return at - from >= MIN_PAN;
}

/* An ISO 8583 field 52 label at s[at] (`52: `, `[052]=`, `"52":`, `id="52" value=`): the
 * digits 0*52 as a whole token, then a `:` or `=` (detect.py `_ISO_LABEL`). */
static int iso52_at(const unsigned char *s, Py_ssize_t at, Py_ssize_t n) {
    if (!(at + 1 < n && s[at] == '5' && s[at + 1] == '2')) return 0;
    Py_ssize_t b = at;
    while (b > 0 && s[b - 1] == '0') b--;
    int bracket = b > 0 && s[b - 1] == '[';
    Py_ssize_t p = b;
    for (int k = 0; k < 2 && p > 0 && is_name_sep(s[p - 1]) && s[p - 1] != ' '; k++) p--;
    int letters = 0;
    for (; letters < 5 && p > 0 && is_alpha(s[p - 1]); letters++) p--;
    if (letters) { /* `DE052`, `field_52`, `F52` */
        if (p > 0 && (is_digit(s[p - 1]) || is_alpha(s[p - 1])) && !after_escape(s, p)) return 0;
    } else if (b > 0 && (is_digit(s[b - 1]) || s[b - 1] == '.' ||
                         (s[b - 1] == ':' && b > 1 && is_digit(s[b - 2])))) {
        return 0; /* `11:52:56` is a time, `1.52` a number, not a label */
    }
    Py_ssize_t k = at + 2;
    if (k < n && (is_digit(s[k]) || is_alpha(s[k]))) return 0;
    if (k < n && s[k] == ']' && bracket) return 1; /* `[052] …` */
    for (int q = 0; q < 3 && k < n && (s[k] == ']' || s[k] == '"' || s[k] == '\'' || s[k] == '\\'); q++) k++;
    while (k < n && k - at < 8 && (s[k] == ' ' || s[k] == '\t')) k++;
    if (k < n && (s[k] == ':' || s[k] == '=')) return 1;
    return k + 6 <= n && memcmp(s + k, "value=", 6) == 0;
}

/* (B): an escape the careful pass decodes, at s[i] (`%`, `\`, or `&`): `%XX`, `\u`,
 * `\x`, `\t` next to a digit (a tab as a raw JSON line writes it), `&#`, and `&name;`
 * for the HTML entities that stand for a space or a dash. */
static int escape_at(const Prefilter *self, const unsigned char *s, Py_ssize_t i, Py_ssize_t n) {
    if (i + 1 >= n) return 0;
    unsigned char c = s[i], d = s[i + 1];
    if (c == '%') return i + 2 < n && is_hex(d) && is_hex(s[i + 2]);
    if (c == '\\')
        return d == 'u' || d == 'x' ||
               (d == 't' && ((i > 0 && (is_digit(s[i - 1]) || self->sep[s[i - 1]])) ||
                             (i + 2 < n && is_digit(s[i + 2])))); /* `4111\t1111` in JSON */
    if (c != '&') return 0;
    if (d == '#') return 1;
    for (const char *w = self->entities; *w; w += strlen(w) + 1) {
        Py_ssize_t len = (Py_ssize_t)strlen(w);
        if (i + 1 + len < n && memcmp(s + i + 1, w, (size_t)len) == 0 && s[i + 1 + len] == ';')
            return 1;
    }
    return 0;
}

/* (B): a UTF-8 sequence at s[i] whose code point is a Unicode digit or space. */
static int unicode_at(const Prefilter *self, const unsigned char *s, Py_ssize_t i, Py_ssize_t n) {
    unsigned c = s[i], cp;
    int more;
    if (c >= 0xF0) { cp = c & 0x07; more = 3; }
    else if (c >= 0xE0) { cp = c & 0x0F; more = 2; }
    else if (c >= 0xC0) { cp = c & 0x1F; more = 1; }
    else return 0; /* a continuation byte: its lead byte decides */
    if (i + more >= n) return 0;
    for (int k = 1; k <= more; k++) {
        if ((s[i + k] & 0xC0) != 0x80) return 0;
        cp = cp << 6 | (s[i + k] & 0x3F);
    }
    Py_ssize_t lo = 0, hi = self->nuni;
    while (lo < hi) {
        Py_ssize_t mid = (lo + hi) / 2;
        if (self->uni_hi[mid] < cp) lo = mid + 1;
        else hi = mid;
    }
    return lo < self->nuni && self->uni_lo[lo] <= cp;
}

/* Track data after a 12+ digit group ending at s[at]: `^` (track 1), or `=` `D` `d` and
 * seven digits (track 2; text.py `_TRACK1`, `_TRACK2`). */
static unsigned track_after(const unsigned char *s, Py_ssize_t at, Py_ssize_t n) {
    if (at >= n) return 0;
    if (s[at] == '^') return R_TRACK1;
    if (s[at] != '=' && s[at] != 'D' && s[at] != 'd') return 0;
    for (Py_ssize_t k = at + 1; k <= at + 7; k++)
        if (k >= n || !is_digit(s[k])) return 0;
    return R_TRACK2;
}

/* An EMV tag of a dump written in spaced bytes at the chain starting at s[i]: the chain
 * opens with `57 ` or `56 ` (track 2 / track 1 equivalent), or a tag (`57` `56` `5A`,
 * `6B` of `9F 6B`) stands right before it or before its length byte (detect.py `_emv`). */
static int emv_tag_at(const unsigned char *s, Py_ssize_t k) { /* `57 ` `56 ` `5A ` `6B ` */
    return s[k + 2] == ' ' && ((s[k] == '5' && (s[k + 1] == '7' || s[k + 1] == '6' ||
                                                LOWER[s[k + 1]] == 'a')) ||
                               (s[k] == '6' && LOWER[s[k + 1]] == 'b'));
}

static int emv_spaced(const unsigned char *s, Py_ssize_t i, Py_ssize_t n) {
    if (i + 2 < n && s[i] == '5' && (s[i + 1] == '7' || s[i + 1] == '6') && !is_digit(s[i + 2]))
        return 1; /* `57 13 41 11 …`: the chain opens with the tag */
    if (i >= 3 && emv_tag_at(s, i - 3)) return 1; /* `5A 08 41 …`: tag, then the chain */
    return i >= 6 && s[i - 1] == ' ' && is_hex(s[i - 2]) && is_hex(s[i - 3]) &&
           emv_tag_at(s, i - 6); /* `57 0F 41 …`: tag, a length with a letter, the chain */
}

static int emv_tag_before(const unsigned char *s, Py_ssize_t start) {
    for (Py_ssize_t k = start - 4; k <= start - 2; k++)
        if (k >= 0 && s[k] == '5' && (s[k + 1] == 'A' || s[k + 1] == 'a')) return 1;
    return 0;
}

/* One group ends: the rules about it alone, then the windows ending with it. `g` holds
 * the chain's last groups, newest last; groups further back can no longer fit a card. */
/* One group ends: the rules about it alone, then the windows ending with it. `g` holds
 * the chain's last groups, newest last; groups further back can no longer fit a card. */
static unsigned group_ends(const Prefilter *self, const unsigned char *s, Py_ssize_t n,
                           Group *g, int *count) {
    Group *last = &g[*count - 1];
    unsigned found = 0;
    last->exempt = hex_id_group(s, last->start, last->start + last->len, n);
    if (last->len >= LONG_GROUP) {
        if (iso_message_around(s, last, n)) found |= R_ISO_MESSAGE;
    }
    if (last->len >= MIN_PAN) {
        found |= track_after(s, last->start + last->len, n);
        if (emv_tag_before(s, last->start)) found |= R_EMV;
    }
    if (window_is_card(self, s, g, *count - 1)) found |= R_CARD;
    if (*count == MAX_PAN) { /* keep the newest MAX_PAN - 1: a window spans at most 19 */
        memmove(g, g + 1, sizeof(Group) * (MAX_PAN - 1));
        (*count)--;
    }
    return found;
}

/* (A) in the run of digits and separators that holds s[at]: the rules that hold, all of
 * them or (`first`) the first found. Sets *end past the run. */
static unsigned cards_in_run(const Prefilter *self, const unsigned char *s, Py_ssize_t at,
                             Py_ssize_t n, Py_ssize_t *end, int first) {
    Py_ssize_t i = at;
    while (i > 0 && is_chain_byte(self, s[i - 1])) i--;
    Group g[MAX_PAN];
    int count = 0, in_group = 0, gap = -1; /* separators since the last group; -1: none open */
    int labelled = 0, digits = 0;         /* the chain's field 2 label, its digits since */
    int emv = 0, chain_digits = 0;        /* an EMV tag in a spaced dump, the chain's digits */
    unsigned found = 0;
    for (; i < n && is_chain_byte(self, s[i]); i++) {
        if (is_digit(s[i])) {
            if (!in_group && gap < 0) { /* a new chain */
                count = 0;
                labelled = 0;
                chain_digits = 0;
                emv = emv_spaced(s, i, n);
            }
            if (!in_group && pan_label_before(s, i)) { /* `BIT002 16…`: from this group */
                labelled = 1;
                digits = 0;
            }
            if (++digits >= MIN_PAN && labelled) found |= R_LLVAR;
            if (++chain_digits >= MIN_PAN && emv) found |= R_EMV;
            if (!in_group) {
                g[count].start = i;
                g[count].len = 0;
                count++;
                in_group = 1;
            }
            g[count - 1].len++;
            continue;
        }
        if (in_group) {
            in_group = 0;
            gap = 1; /* a separator: the chain may go on */
            found |= group_ends(self, s, n, g, &count);
            if (found && first) break;
        } else if (gap >= 0 && ++gap > self->max_gap) {
            gap = -1; /* too many separators in a row: the chain ends */
        }
    }
    if (in_group && !(found && first)) found |= group_ends(self, s, n, g, &count);
    *end = i;
    return found;
}

/* --- the cards of a text, as the careful pass finds them -------------------------- */

/* Whether a window of whole groups of the chain g[0 .. count) is a card (12 digits
 * admitted: the careful pass decides by context); *twelve is set when one of 12 is.
 * `windows` (not NULL): each card window is appended to it as (start, end, chain start,
 * chain end, the chain's digits), the careful pass's own windows (detect.py `_windows`)
 * before its exemptions by context. Returns -1 with an exception set. */
static int chain_has_card(const Prefilter *self, const unsigned char *s, const Group *g,
                          Py_ssize_t count, int *twelve, PyObject *windows, int units) {
    char d[MAX_PAN];
    int any = 0;
    for (Py_ssize_t i = 0; i < count; i++) {
        int total = 0;
        for (Py_ssize_t j = i; j < count; j++) {
            if (total + g[j].len > MAX_PAN || g[j].exempt) break;
            memcpy(d + total, s + g[j].start, (size_t)g[j].len);
            total += g[j].len;
            if (total >= MIN_PAN && brand_fits(self, d, total) && luhn_ok(d, total)) {
                any = 1;
                if (total == MIN_PAN) *twelve = 1;
                if (windows == NULL) continue;
                PyObject *w = Py_BuildValue("(nnnni)", g[i].start, g[j].start + g[j].len,
                                            g[0].start, g[count - 1].start + g[count - 1].len,
                                            units);
                if (w == NULL || PyList_Append(windows, w) < 0) {
                    Py_XDECREF(w);
                    return -1;
                }
                Py_DECREF(w);
            }
        }
    }
    return any;
}

/* The (start, end) of the chains of s[0 .. n) that hold a card, as a new list (the
 * careful pass finds its cards inside them); *twelve set when a window of 12 digits is
 * one. NULL with an exception set. */
static PyObject *card_spans_of(const Prefilter *self, const unsigned char *s, Py_ssize_t n,
                               int *twelve, int windows) {
    PyObject *out = PyList_New(0);
    Py_ssize_t cap = 16, count = 0;
    Group *g = PyMem_Malloc(sizeof(Group) * (size_t)cap);
    if (out == NULL || g == NULL) goto fail;
    for (Py_ssize_t pos = 0; pos < n;) {
        if (!is_digit(s[pos])) {
            pos++;
            continue;
        }
        /* a chain: groups of digits joined by single separators (`_CANDIDATE_PLAIN`) */
        int units = 0;
        count = 0;
        for (;;) {
            if (count == cap) {
                Group *more = PyMem_Realloc(g, sizeof(Group) * (size_t)(cap *= 2));
                if (more == NULL) goto fail;
                g = more;
            }
            Py_ssize_t end = pos;
            while (end < n && is_digit(s[end])) end++;
            g[count].start = pos;
            g[count].len = (int)(end - pos);
            count++;
            units += (int)(end - pos);
            pos = end;
            int gap = 0;
            while (end + gap < n && gap <= self->max_gap && self->sep[s[end + gap]]) gap++;
            if (!(gap >= 1 && gap <= self->max_gap && end + gap < n && is_digit(s[end + gap])))
                break;
            pos = end + gap;
        }
        if (units < MIN_PAN) continue;
        for (Py_ssize_t k = 0; k < count; k++)
            g[k].exempt = hex_id_group(s, g[k].start, g[k].start + g[k].len, n);
        int has = chain_has_card(self, s, g, count, twelve, windows ? out : NULL, units);
        if (has < 0) goto fail;
        if (has && !windows) {
            PyObject *span = Py_BuildValue("(nn)", g[0].start, g[count - 1].start + g[count - 1].len);
            if (span == NULL || PyList_Append(out, span) < 0) {
                Py_XDECREF(span);
                goto fail;
            }
            Py_DECREF(span);
        }
    }
    PyMem_Free(g);
    return out;
fail:
    PyMem_Free(g);
    Py_XDECREF(out);
    if (!PyErr_Occurred()) PyErr_NoMemory();
    return NULL;
}

static PyObject *Prefilter_card_spans(Prefilter *self, PyObject *args) {
    const char *text;
    Py_ssize_t n;
    int card_context, twelve = 0;
    if (!PyArg_ParseTuple(args, "y#p", &text, &n, &card_context)) return NULL;
    return card_spans_of(self, (const unsigned char *)text, n, &twelve, 0);
}

/* --- the whole line ---------------------------------------------------------------- */

/* The other rules on the bytes of a chain run s[from .. to), which the run's scan took
 * in whole: a `52` label, an escape (`\` is a separator of `\t`), a name opening at a
 * `t` (a separator byte too). */
static unsigned run_rules(const Prefilter *self, const unsigned char *s, Py_ssize_t from,
                          Py_ssize_t to, Py_ssize_t n) {
    unsigned found = 0;
    for (Py_ssize_t k = from; k < to; k++) {
        unsigned char c = s[k];
        if (c == '5' && iso52_at(s, k, n)) found |= R_ISO_LABEL;
        else if (c == '\\' && escape_at(self, s, k, n)) found |= R_ESCAPE;
        else if (is_alpha(c) &&
                 (c < 'a' || k == 0 || !is_alpha(s[k - 1]) || after_escape(s, k)) &&
                 could_open_name(self, s, k, n) && name_starting_at(self, s, k, n))
            found |= R_NAME;
    }
    return found;
}

/* The reference form: one byte at a time, every rule that holds (or the first found).
 * The vector form below gives the same answer to "any?". */
static unsigned line_reasons(const Prefilter *self, const unsigned char *s, Py_ssize_t n,
                             int first) {
    unsigned found = 0;
    unsigned char prev = '\n';
    for (Py_ssize_t i = 0; i < n && !(found && first); prev = s[i], i++) {
        unsigned char c = s[i];
        switch (CLASS[c]) {
        case C_DIGIT:
        case C_SEP: {
            Py_ssize_t end;
            found |= cards_in_run(self, s, i, n, &end, first);
            found |= run_rules(self, s, i, end, n);
            i = end - 1; /* the loop moves on to s[end] */
            continue;
        }
        case C_ESC:
            if (escape_at(self, s, i, n)) found |= R_ESCAPE;
            continue;
        case C_EQ:
            if (masked_track_at(s, i, n)) found |= c == '=' ? R_TRACK2 : R_TRACK1;
            continue;
        case C_HIGH:
            if (unicode_at(self, s, i, n)) found |= R_ESCAPE;
            continue;
        case C_E:
            if (big_float_at(s, i, n)) found |= R_BIG_FLOAT;
            __attribute__((fallthrough)); /* it is also a letter */
        case C_UPPER:
        case C_LOWER:
            if (c >= 'a' && c <= 'z' && is_alpha(prev) && !after_escape(s, i))
                continue; /* not a word start */
            if (!(found & R_NAME) && could_open_name(self, s, i, n) &&
                name_starting_at(self, s, i, n))
                found |= R_NAME;
            continue;
        default:
            continue;
        }
    }
    return found;
}

/* What `candidate`'s `others` leaves out: the card rule, the name rule. */
enum { O_NO_CARD = 1, O_NO_NAME = 2 };

static inline unsigned rules_wanted(int others) {
    unsigned wanted = ~0u;
    if (others & O_NO_CARD) wanted &= ~(unsigned)R_CARD;
    if (others & O_NO_NAME) wanted &= ~(unsigned)R_NAME;
    return wanted;
}

static int candidate_scalar(const Prefilter *self, const unsigned char *s, Py_ssize_t n,
                            int others) {
    return others ? (line_reasons(self, s, n, 0) & rules_wanted(others)) != 0
                  : line_reasons(self, s, n, 1) != 0;
}

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#include <stdint.h>

#define V_VEC __m128i
#define V_WIDTH 16
#define V_NAME(f) f##_sse2
#define V_TARGET
#define V_ZERO _mm_setzero_si128
#define V_SET1 _mm_set1_epi8
#define V_LOAD(p) _mm_loadu_si128((const __m128i *)(p))
#define V_EQ _mm_cmpeq_epi8
#define V_OR _mm_or_si128
#define V_AND _mm_and_si128
#define V_ANDNOT _mm_andnot_si128
#define V_SUB _mm_sub_epi8
#define V_MINU _mm_min_epu8
#define V_MOVEMASK(v) ((uint32_t)_mm_movemask_epi8(v))
#include "_prefilter_vec.h"
#undef V_VEC
#undef V_WIDTH
#undef V_NAME
#undef V_TARGET
#undef V_ZERO
#undef V_SET1
#undef V_LOAD
#undef V_EQ
#undef V_OR
#undef V_AND
#undef V_ANDNOT
#undef V_SUB
#undef V_MINU
#undef V_MOVEMASK

#define V_VEC __m256i
#define V_WIDTH 32
#define V_NAME(f) f##_avx2
#define V_TARGET __attribute__((target("avx2")))
#define V_ZERO _mm256_setzero_si256
#define V_SET1 _mm256_set1_epi8
#define V_LOAD(p) _mm256_loadu_si256((const __m256i *)(p))
#define V_EQ _mm256_cmpeq_epi8
#define V_OR _mm256_or_si256
#define V_AND _mm256_and_si256
#define V_ANDNOT _mm256_andnot_si256
#define V_SUB _mm256_sub_epi8
#define V_MINU _mm256_min_epu8
#define V_MOVEMASK(v) ((uint32_t)_mm256_movemask_epi8(v))
#include "_prefilter_vec.h"

typedef int (*candidate_fn)(const Prefilter *, const unsigned char *, Py_ssize_t, int);
/* The widest form this CPU runs, chosen at import. */
static candidate_fn candidate = candidate_sse2;
static const char *candidate_form = "sse2";

static void choose_candidate(void) {
    /* COLLECTOR_PRESCAN=scalar runs the byte loop (the form of ARM and other CPUs), so CI
       can hold it to the same tests on an x86 machine. */
    const char *forced = getenv("COLLECTOR_PRESCAN");
    if (forced != NULL && strcmp(forced, "scalar") == 0) {
        candidate = candidate_scalar;
        candidate_form = "scalar";
        return;
    }
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2")) {
        candidate = candidate_avx2;
        candidate_form = "avx2";
    }
}
#else
typedef int (*candidate_fn)(const Prefilter *, const unsigned char *, Py_ssize_t, int);
static candidate_fn candidate = candidate_scalar;
static const char *candidate_form = "scalar";
static void choose_candidate(void) {}
#endif

PyDoc_STRVAR(candidates_doc,
             "candidates(lines: list[bytes]) -> list[int]\n\n"
             "Indices of the lines that may hold a match of the pre-scan's pattern.");

static PyObject *candidates_with(Prefilter *self, PyObject *lines, candidate_fn candidate) {
    if (!PyList_Check(lines)) {
        PyErr_SetString(PyExc_TypeError, "lines must be a list of bytes");
        return NULL;
    }
    PyObject *out = PyList_New(0);
    if (out == NULL) return NULL;
    Py_ssize_t n = PyList_GET_SIZE(lines);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *line = PyList_GET_ITEM(lines, i);
        if (!PyBytes_Check(line)) {
            Py_DECREF(out);
            PyErr_SetString(PyExc_TypeError, "lines must be a list of bytes");
            return NULL;
        }
        const unsigned char *s = (const unsigned char *)PyBytes_AS_STRING(line);
        if (candidate(self, s, PyBytes_GET_SIZE(line), 0)) {
            PyObject *index = PyLong_FromSsize_t(i);
            if (index == NULL || PyList_Append(out, index) < 0) {
                Py_XDECREF(index);
                Py_DECREF(out);
                return NULL;
            }
            Py_DECREF(index);
        }
    }
    return out;
}

static PyObject *Prefilter_candidates(Prefilter *self, PyObject *lines) {
    return candidates_with(self, lines, candidate);
}

static PyObject *Prefilter_reference(Prefilter *self, PyObject *lines) {
    return candidates_with(self, lines, candidate_scalar);
}

#if defined(__x86_64__) || defined(__i386__)
static PyObject *Prefilter_sse2(Prefilter *self, PyObject *lines) {
    return candidates_with(self, lines, candidate_sse2);
}
#endif

static PyObject *Prefilter_reasons(Prefilter *self, PyObject *text) {
    if (!PyBytes_Check(text)) {
        PyErr_SetString(PyExc_TypeError, "text must be bytes");
        return NULL;
    }
    const unsigned char *s = (const unsigned char *)PyBytes_AS_STRING(text);
    Py_ssize_t n = PyBytes_GET_SIZE(text);
    /* Most texts the careful pass asks about hold a card and nothing else: two vector
     * passes tell that; the byte loop names the rules only when another one holds. */
    if (!candidate(self, s, n, O_NO_CARD))
        return PyLong_FromUnsignedLong(candidate(self, s, n, 0) ? R_CARD : 0);
    return PyLong_FromUnsignedLong(line_reasons(self, s, n, 0));
}

/* The word starts of s[0 .. n) where a name begins (rule (D), every one, in order),
 * appended to `out`: where detect.py's label pattern can match, so the careful pass
 * tries it only there. -1 with an exception set. */
static int name_starts(const Prefilter *self, const unsigned char *s, Py_ssize_t n,
                       PyObject *out) {
    for (Py_ssize_t i = 0; i < n; i++) {
        unsigned char c = s[i];
        if (!is_alpha(c)) continue;
        if (c >= 'a' && i > 0 && is_alpha(s[i - 1]) && !after_escape(s, i))
            continue; /* not a word start */
        if (!could_open_name(self, s, i, n) || !name_starting_at(self, s, i, n)) continue;
        PyObject *at = PyLong_FromSsize_t(i);
        if (at == NULL || PyList_Append(out, at) < 0) {
            Py_XDECREF(at);
            return -1;
        }
        Py_DECREF(at);
    }
    return 0;
}

/* What the careful pass needs of a plain ASCII text, in one call: the rules that hold
 * (`reasons`), the card windows of its chains (rule (A)'s windows, before the exemptions
 * that need context), and where the names of rule (D) begin. Cards and names are found
 * here whole, so the vector pass only asks whether another rule holds (rarely: then the
 * byte loop names them). `rules` (not 0): the caller knows them; only cards, and names
 * when asked, are looked for. */
static PyObject *Prefilter_findings(Prefilter *self, PyObject *args) {
    const char *text;
    Py_ssize_t n;
    unsigned rules = 0;
    if (!PyArg_ParseTuple(args, "y#|I", &text, &n, &rules)) return NULL;
    const unsigned char *s = (const unsigned char *)text;
    int twelve = 0;
    PyObject *windows = card_spans_of(self, s, n, &twelve, 1);
    PyObject *names = PyList_New(0);
    if (windows == NULL || names == NULL ||
        ((rules == 0 || (rules & R_NAME)) && name_starts(self, s, n, names) < 0)) {
        Py_XDECREF(windows);
        Py_XDECREF(names);
        return NULL;
    }
    unsigned found = rules;
    if (rules == 0) {
        if (PyList_GET_SIZE(windows) > 0) found |= R_CARD;
        if (PyList_GET_SIZE(names) > 0) found |= R_NAME;
        if (candidate(self, s, n, O_NO_CARD | O_NO_NAME)) found |= line_reasons(self, s, n, 0);
    }
    return Py_BuildValue("(INN)", found, windows, names);
}

/* --- the JSON shortcut's question (redact/shortcut.py) ----------------------------- */

/* Whether the quote at s[close] closes a key: a `:` follows (after blanks). */
static int closes_key(const unsigned char *s, Py_ssize_t close, Py_ssize_t n) {
    Py_ssize_t k = close + 1;
    while (k < n && (s[k] == ' ' || s[k] == '\t')) k++;
    return k < n && s[k] == ':';
}

static PyObject *Prefilter_json_cards(Prefilter *self, PyObject *args) {
    const char *text;
    Py_ssize_t n, max_depth;
    if (!PyArg_ParseTuple(args, "y#n", &text, &n, &max_depth)) return NULL;
    const unsigned char *s = (const unsigned char *)text;
    Py_ssize_t opened = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (s[i] >= 0x80 || s[i] == '\\' || s[i] == '%') Py_RETURN_NONE;
        opened += s[i] == '{' || s[i] == '[';
    }
    if (opened >= max_depth || candidate(self, s, n, O_NO_CARD)) Py_RETURN_NONE;
    int twelve = 0;
    PyObject *spans = card_spans_of(self, s, n, &twelve, 0);
    if (spans == NULL) return NULL;
    if (twelve) { /* 12 digits: card or not depends on the key, which the walk judges */
        Py_DECREF(spans);
        Py_RETURN_NONE;
    }
    Py_ssize_t quotes = 0, at = 0;
    for (Py_ssize_t k = 0; k < PyList_GET_SIZE(spans); k++) {
        PyObject *span = PyList_GET_ITEM(spans, k);
        Py_ssize_t start = PyLong_AsSsize_t(PyTuple_GET_ITEM(span, 0));
        Py_ssize_t end = PyLong_AsSsize_t(PyTuple_GET_ITEM(span, 1));
        for (; at < start; at++) quotes += s[at] == '"';
        Py_ssize_t close = end;
        while (close < n && s[close] != '"') close++;
        /* outside a string: a number; an unclosed string, or a key: the walk judges (it
         * renames keys) */
        if (quotes % 2 == 0 || close == n || closes_key(s, close, n)) {
            Py_DECREF(spans);
            Py_RETURN_NONE;
        }
    }
    return spans;
}

static PyMethodDef Prefilter_methods[] = {
    {"json_cards", (PyCFunction)Prefilter_json_cards, METH_VARARGS,
     PyDoc_STR("json_cards(line: bytes, max_depth: int) -> list[tuple[int, int]] | None: "
               "the cards of a JSON line when all sit in string values and nothing else "
               "needs the walk (redact/shortcut.py); None when the walk must run")},
    {"card_spans", (PyCFunction)Prefilter_card_spans, METH_VARARGS,
     PyDoc_STR("card_spans(text: bytes, card_context: bool) -> list[tuple[int, int]]: "
               "where the careful pass finds cards in plain ASCII text (text.py `_pan_spans`)")},
    {"findings", (PyCFunction)Prefilter_findings, METH_VARARGS,
     PyDoc_STR("findings(text: bytes, rules: int = 0) -> tuple[int, list[tuple[int, int, "
               "int, int, int]], list[int]]: the reasons, the card windows (start, end, "
               "chain start, chain end, chain digits) and where names begin, of plain ASCII "
               "text (text.py)")},
    {"reasons", (PyCFunction)Prefilter_reasons, METH_O,
     PyDoc_STR("reasons(text: bytes) -> int: every rule that holds in text, one bit each")},
    {"candidates", (PyCFunction)Prefilter_candidates, METH_O, candidates_doc},
    {"reference", (PyCFunction)Prefilter_reference, METH_O,
     PyDoc_STR("reference(lines) -> list[int]: the same, one byte at a time (for tests)")},
#if defined(__x86_64__) || defined(__i386__)
    {"sse2", (PyCFunction)Prefilter_sse2, METH_O,
     PyDoc_STR("sse2(lines) -> list[int]: the same, 16 bytes a step (for tests)")},
#endif
    {NULL, NULL, 0, NULL},
};

static PyTypeObject PrefilterType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "collector.redact._prefilter.Prefilter",
    .tp_basicsize = sizeof(Prefilter),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = PyDoc_STR("Prefilter(names, ranges): the pre-scan's first step (see scan.py)."),
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Prefilter_init,
    .tp_dealloc = (destructor)Prefilter_dealloc,
    .tp_methods = Prefilter_methods,
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "collector.redact._prefilter",
    .m_doc = "The redaction pre-scan's first step (see the source's header).",
    .m_size = -1,
};

PyMODINIT_FUNC PyInit__prefilter(void) {
    init_tables();
    choose_candidate();
    if (PyType_Ready(&PrefilterType) < 0) return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL) return NULL;
    Py_INCREF(&PrefilterType);
    if (PyModule_AddObject(m, "Prefilter", (PyObject *)&PrefilterType) < 0) {
        Py_DECREF(&PrefilterType);
        Py_DECREF(m);
        return NULL;
    }
    if (PyModule_AddStringConstant(m, "FORM", candidate_form) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
