/*
 * The vector form of _prefilter.c's `candidate`, written once for two widths: included
 * with the V_* macros of SSE2 (16 bytes a step) and of AVX2 (32), which the module picks
 * at import by what the CPU has. Same answer as `candidate_scalar` (the tests hold every
 * form against it).
 *
 * Each step makes masks of the bytes that could start or belong to (A)-(D) and runs the
 * scalar checks only where a mask has a bit: most lines hold no such byte but a few word
 * starts that share a name's first two letters.
 */

/* Letters (either case) of v as 0xFF bytes. */
V_TARGET static inline V_VEC V_NAME(letters)(V_VEC v) {
    V_VEC t = V_SUB(V_OR(v, V_SET1(0x20)), V_SET1('a'));
    return V_EQ(V_MINU(t, V_SET1(25)), t);
}

#if V_WIDTH == 32
/* The class bits of each byte of v by two nibble tables (shufti). */
V_TARGET static inline V_VEC V_NAME(classes)(const unsigned char *lo, const unsigned char *hi,
                                             V_VEC v) {
    const V_VEC low = V_SET1(0x0F);
    return V_AND(_mm256_shuffle_epi8(V_LOAD(lo), V_AND(v, low)),
                 _mm256_shuffle_epi8(V_LOAD(hi), V_AND(_mm256_srli_epi16(v, 4), low)));
}

/* Bytes that could open a name with the two bytes after them (shufti: two nibble lookups
 * per byte, one class bit per first letter; nibbles shared between letters make it
 * wider, never narrower). */
V_TARGET static inline V_VEC V_NAME(first_two)(const Prefilter *self, V_VEC lv, V_VEC lvn,
                                               V_VEC lvnn) {
    V_VEC first = V_NAME(classes)(self->first_lo, self->first_hi, lv);
    V_VEC second = V_NAME(classes)(self->second_lo, self->second_hi, lvn);
    V_VEC third = V_NAME(classes)(self->third_lo, self->third_hi, lvnn);
    return V_ANDNOT(V_EQ(V_AND(V_AND(first, second), third), V_ZERO()), V_SET1(-1));
}

/* Digits and separators (the chain bytes) of v. */
V_TARGET static inline V_VEC V_NAME(chain_bytes)(const Prefilter *self, V_VEC v) {
    if (self->chain_tables)
        return V_ANDNOT(V_EQ(V_NAME(classes)(self->chain_lo, self->chain_hi, v), V_ZERO()),
                        V_SET1(-1));
    V_VEC t = V_SUB(v, V_SET1('0'));
    V_VEC chain = V_EQ(V_MINU(t, V_SET1(9)), t);
    for (int k = 0; k < self->nseps; k++) chain = V_OR(chain, V_EQ(v, V_SET1((char)self->seps[k])));
    return chain;
}
#else
/* Bytes that could open a name with the byte after them: one compare per first letter
 * and one per second letter of a name. */
static inline V_VEC V_NAME(first_two)(const Prefilter *self, V_VEC lv, V_VEC lvn, V_VEC lvnn) {
    (void)lvnn;
    V_VEC named = V_ZERO();
    for (int f = 0; f < self->nfirsts; f++) {
        const FirstLetter *fl = &self->firsts[f];
        V_VEC seconds = V_LOAD(fl->any);
        for (int k = fl->from; k < fl->to; k++)
            seconds = V_OR(seconds, V_EQ(lvn, V_LOAD(self->seconds[k])));
        named = V_OR(named, V_AND(V_EQ(lv, V_LOAD(fl->letter)), seconds));
    }
    return named;
}

static inline V_VEC V_NAME(chain_bytes)(const Prefilter *self, V_VEC v) {
    V_VEC t = V_SUB(v, V_SET1('0'));
    V_VEC chain = V_EQ(V_MINU(t, V_SET1(9)), t);
    for (int k = 0; k < self->nseps; k++) chain = V_OR(chain, V_EQ(v, V_SET1((char)self->seps[k])));
    return chain;
}
#endif

/* `others`: 0, whether any rule holds; O_NO_CARD, whether a rule other than the card one
 * does (the JSON shortcut's question); O_NO_CARD | O_NO_NAME, whether a rule other than
 * those two does (`Prefilter.findings`, which finds cards and names itself). */
V_TARGET static int V_NAME(candidate)(const Prefilter *self, const unsigned char *s,
                                      Py_ssize_t n, int others) {
    const V_VEC nine = V_SET1(9), lowbit = V_SET1(0x20);
    const uint32_t full = V_WIDTH == 32 ? 0xFFFFFFFFu : (1u << V_WIDTH) - 1;
    unsigned char pad[V_WIDTH + 2];
    int carry = 0; /* chain bytes (digits, separators) just before this step */
    const unsigned wanted = rules_wanted(others);
    for (Py_ssize_t o = 0; o < n;) {
        const unsigned char *p = s + o;
        if (o + V_WIDTH + 2 > n) { /* the end: pad with a byte no rule reads */
            memset(pad, '\n', sizeof pad);
            memcpy(pad, s + o, (size_t)(n - o));
            p = pad;
        }
        V_VEC v = V_LOAD(p), vn = V_LOAD(p + 1);
        V_VEC lv = V_OR(v, lowbit), lvn = V_OR(vn, lowbit), lvnn = V_OR(V_LOAD(p + 2), lowbit);

        /* (B) an escape (`%XX`, `\\u`, `\\x`, `&#`, `&nbsp;`) or a Unicode digit or space:
         * checked exactly where a `%`, `\\`, `&` or a non-ASCII lead byte is (rare in logs) */
        V_VEC bsl = V_EQ(v, V_SET1('\\'));
        uint32_t esc = V_MOVEMASK(V_OR(V_OR(V_EQ(v, V_SET1('%')), bsl), V_EQ(v, V_SET1('&'))));
        for (; esc; esc &= esc - 1) {
            Py_ssize_t at = o + __builtin_ctz(esc);
            if (at < n && escape_at(self, s, at, n)) return 1;
        }
        for (uint32_t high = V_MOVEMASK(v) & full; high; high &= high - 1) {
            Py_ssize_t at = o + __builtin_ctz(high);
            if (at < n && unicode_at(self, s, at, n)) return 1;
        }

        /* (A) `=` and a digit, or `^` (a track after a masked PAN); `52` (an ISO 8583 PIN
         * block label): checked exactly where found */
        uint32_t eq = V_MOVEMASK(V_OR(V_AND(V_EQ(v, V_SET1('=')),
                                            V_EQ(V_MINU(V_SUB(vn, V_SET1('0')), nine), V_SUB(vn, V_SET1('0')))),
                                      V_EQ(v, V_SET1('^'))));
        for (; eq; eq &= eq - 1) {
            Py_ssize_t at = o + __builtin_ctz(eq);
            if (at < n && masked_track_at(s, at, n)) return 1;
        }
        uint32_t f52 = V_MOVEMASK(V_AND(V_EQ(v, V_SET1('5')), V_EQ(vn, V_SET1('2'))));
        for (; f52; f52 &= f52 - 1) {
            Py_ssize_t at = o + __builtin_ctz(f52);
            if (at < n && iso52_at(s, at, n)) return 1;
        }

        /* (C) an exponent: e/E then + or 1, checked exactly where found */
        uint32_t em = V_MOVEMASK(
            V_AND(V_EQ(lv, V_SET1('e')), V_OR(V_EQ(vn, V_SET1('+')), V_EQ(vn, V_SET1('1')))));
        for (; em; em &= em - 1) {
            Py_ssize_t at = o + __builtin_ctz(em);
            if (at < n && big_float_at(s, at, n)) return 1;
        }

        /* (D) a word start (an uppercase letter, or a letter after a non-letter) holding
         * the first two letters of a name; each one found is checked against the names */
        V_VEC alpha = V_NAME(letters)(v);
        uint32_t alphas = V_MOVEMASK(alpha);
        uint32_t uppers = V_MOVEMASK(V_ANDNOT(V_EQ(V_AND(v, lowbit), lowbit), alpha));
        uint32_t after_letter = alphas << 1 | (uint32_t)(o > 0 && is_alpha(s[o - 1]));
        /* after `\n` `\t` `\r` (two bytes after a backslash) a word starts too */
        uint32_t after_esc = V_MOVEMASK(bsl) << 2 | (uint32_t)(o > 1 && s[o - 2] == '\\') |
                             (uint32_t)(o > 0 && s[o - 1] == '\\') << 1;
        uint32_t starts = alphas & (uppers | ~after_letter | after_esc);
        if (others & O_NO_NAME) starts = 0;
        for (uint32_t nm = V_MOVEMASK(V_NAME(first_two)(self, lv, lvn, lvnn)) & starts; nm;
             nm &= nm - 1) {
            Py_ssize_t at = o + __builtin_ctz(nm);
            if (at >= n) break;
            if (could_open_name(self, s, at, n) && name_starting_at(self, s, at, n)) return 1;
        }

        /* (A) twelve digits of a chain span twelve bytes of digits and separators: look
         * closer only at such runs (hex ids, grouped numbers, runs of spaces) */
        uint32_t m = V_MOVEMASK(V_NAME(chain_bytes)(self, v));
        if (m) {
            uint32_t r = m & (m >> 1);
            r &= r >> 2;
            r &= r >> 4;
            r &= r >> 4; /* bit i: bytes i .. i + 11 all chain bytes */
            int lead = m == full ? V_WIDTH : __builtin_ctz(~m);
            Py_ssize_t at = -1;
            if (carry > 0 && carry + lead >= MIN_PAN) {
                at = o;
            } else if (r) {
                at = o + __builtin_ctz(r);
            }
            if (at >= 0) {
                Py_ssize_t end, from = at;
                while (from > 0 && is_chain_byte(self, s[from - 1])) from--;
                if (cards_in_run(self, s, at, n, &end, !others) & wanted) return 1;
                if (run_rules(self, s, from, end, n) & wanted) return 1; /* bytes the jump skips */
                carry = 0;
                o = end > o ? end : o + 1;
                continue;
            }
            carry = m == full ? carry + V_WIDTH : __builtin_clz((uint32_t)~m << (32 - V_WIDTH));
        } else {
            carry = 0;
        }
        o += V_WIDTH;
    }
    return 0;
}
