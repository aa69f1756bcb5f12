// The scanner over bytes (CH is u8), included once by scan.c; SUFFIX keeps its names apart from
// the exports. Every function returns the index after what it consumed, or -1 (see scan.c). The
// text is followed by at least 16 zero bytes, and 0 is invalid everywhere in JSON, so every loop
// stops at the end without a bounds check.

#define S SUFFIX(text)
#define ESC SUFFIX(escaped)

static const CH *S;
// Set by str(): the string just scanned held a backslash (or, as bytes, a byte >= 0x80).
static int ESC;


static i32 SUFFIX(ws)(i32 i) {
  for (;;) {
    u32 c = S[i];
    if (c != ' ' && c != '\n' && c != '\r' && c != '\t') return i;
    i++;
  }
}

// i at '"': the index after the closing quote; sets ESC.
static i32 SUFFIX(str)(i32 i) {
  i32 k = i + 1;
  int escaped = 0;
  for (;;) {
    // 16 bytes at a time to the next '"', '\\' or control character (0 past the end stops it).
    for (;;) {
      v128_t v = wasm_v128_load(S + k);
      // Signed: a byte >= 0x80 (UTF-8 read as bytes) stops it too, as a control character does.
      v128_t stop = wasm_v128_or(
          wasm_v128_or(wasm_i8x16_eq(v, wasm_i8x16_splat('"')), wasm_i8x16_eq(v, wasm_i8x16_splat('\\'))),
          wasm_i8x16_lt(v, wasm_i8x16_splat(0x20)));
      u32 bits = wasm_i8x16_bitmask(stop);
      if (bits != 0) {
        k += __builtin_ctz(bits);
        break;
      }
      k += 16;
    }
    u32 c = S[k];
    if (c == '"') {
      ESC = escaped;
      return k + 1;
    }
    if (c >= 0x80) {
      // Part of a UTF-8 character: the string is not its latin1 slice (see HIGH).
      escaped = 1;
      HIGH = 1;
      while (S[++k] >= 0x80) {
      }
      continue;
    }
    if (c != '\\') return -1; // a control character, or the end
    escaped = 1;
    c = S[++k];
    if (c == 'u') {
      if (!is_hex(S[k + 1]) || !is_hex(S[k + 2]) || !is_hex(S[k + 3]) || !is_hex(S[k + 4]))
        return -1;
      k += 5;
    } else if (c == '"' || c == '\\' || c == '/' || c == 'b' || c == 'f' || c == 'n' ||
               c == 'r' || c == 't') {
      k++;
    } else {
      return -1;
    }
  }
}

static int SUFFIX(digit)(i32 i) { return S[i] >= '0' && S[i] <= '9'; }

// JSON numbers: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
static i32 SUFFIX(num)(i32 k) {
  if (S[k] == '-') k++;
  if (S[k] == '0') k++;
  else if (S[k] >= '1' && S[k] <= '9') {
    k++;
    while (SUFFIX(digit)(k)) k++;
  } else return -1;
  if (S[k] == '.') {
    k++;
    if (!SUFFIX(digit)(k)) return -1;
    while (SUFFIX(digit)(k)) k++;
  }
  if (S[k] == 'e' || S[k] == 'E') {
    k++;
    if (S[k] == '+' || S[k] == '-') k++;
    if (!SUFFIX(digit)(k)) return -1;
    while (SUFFIX(digit)(k)) k++;
  }
  return k;
}

static i32 SUFFIX(scalar)(i32 i) {
  u32 c = S[i];
  if (c == 't') return S[i + 1] == 'r' && S[i + 2] == 'u' && S[i + 3] == 'e' ? i + 4 : -1;
  if (c == 'f')
    return S[i + 1] == 'a' && S[i + 2] == 'l' && S[i + 3] == 's' && S[i + 4] == 'e' ? i + 5 : -1;
  if (c == 'n') return S[i + 1] == 'u' && S[i + 2] == 'l' && S[i + 3] == 'l' ? i + 4 : -1;
  return SUFFIX(num)(i);
}

// i at a member's key: the index of its value, or -1.
static i32 SUFFIX(key)(i32 i) {
  if (S[i] != '"') return -1;
  i = SUFFIX(str)(i);
  if (i < 0) return -1;
  i = SUFFIX(ws)(i);
  if (S[i] != ':') return -1;
  return SUFFIX(ws)(i + 1);
}

// Any JSON value at i: iterative, nesting up to MAX_DEPTH.
static i32 SUFFIX(skip)(i32 i) {
  u32 c = S[i];
  if (c == '"') return SUFFIX(str)(i);
  if (c != '{' && c != '[') return SUFFIX(scalar)(i);
  i32 d = 0;
  for (;;) {
    c = S[i];
    if (c == '{') {
      i = SUFFIX(ws)(i + 1);
      if (S[i] == '}') {
        i++;
      } else {
        if (d >= MAX_DEPTH) return -1;
        depth_stack[d++] = 1;
        i = SUFFIX(key)(i);
        if (i < 0) return -1;
        continue;
      }
    } else if (c == '[') {
      i = SUFFIX(ws)(i + 1);
      if (S[i] == ']') {
        i++;
      } else {
        if (d >= MAX_DEPTH) return -1;
        depth_stack[d++] = 2;
        continue;
      }
    } else if (c == '"') {
      i = SUFFIX(str)(i);
    } else {
      i = SUFFIX(scalar)(i);
    }
    if (i < 0) return -1;
    for (;;) {
      if (d == 0) return i;
      i = SUFFIX(ws)(i);
      c = S[i];
      u8 top = depth_stack[d - 1];
      if (c == ',') {
        i = SUFFIX(ws)(i + 1);
        if (top == 1) {
          i = SUFFIX(key)(i);
          if (i < 0) return -1;
        }
        break;
      }
      if ((c == '}' && top == 1) || (c == ']' && top == 2)) {
        d--;
        i++;
        continue;
      }
      return -1;
    }
  }
}

static int SUFFIX(eq)(const CH *key, const char *lit, i32 len) {
  for (i32 k = 0; k < len; k++)
    if (key[k] != (u8)lit[k]) return 0;
  return 1;
}

#define IS(lit) SUFFIX(eq)(key, lit, len)

// The field the key key[0, len) names at nesting `level` (0 record, 1 userIdentity, 2 its
// sessionContext, 3 the sessionIssuer; LEVEL_TOP: 0 for "Records"), or -1. The one list of
// wanted keys: escaped keys are decoded first and matched here too.
static i32 SUFFIX(field)(int level, const CH *key, i32 len) {
  if (level == 0) {
    switch (len) {
    case 7: return IS("eventID") ? F_EVENT_ID : -1;
    case 9:
      if (IS("eventName")) return F_NAME;
      if (IS("eventTime")) return F_TIME;
      if (IS("eventType")) return F_EVENT_TYPE;
      if (IS("errorCode")) return F_ERROR_CODE;
      if (IS("awsRegion")) return F_REGION;
      if (IS("resources")) return F_RESOURCES;
      return -1;
    case 10: return IS("@timestamp") ? F_TIMESTAMP : -1;
    case 11: return IS("eventSource") ? F_SOURCE : -1;
    case 12:
      if (IS("userIdentity")) return F_IDENTITY;
      if (IS("errorMessage")) return F_ERROR_MESSAGE;
      return -1;
    case 13: return IS("eventCategory") ? F_EVENT_CATEGORY : -1;
    case 14: return IS("insightDetails") ? F_INSIGHT : -1;
    case 16: return IS("responseElements") ? F_RESPONSE : -1;
    case 17: return IS("requestParameters") ? F_REQUEST : -1;
    case 18: return IS("recipientAccountId") ? F_RECIPIENT : -1;
    default: return -1;
    }
  }
  if (level == 1) {
    switch (len) {
    case 3: return IS("arn") ? F_U_ARN : -1;
    case 4: return IS("type") ? F_U_TYPE : -1;
    case 9:
      if (IS("accountId")) return F_U_ACCOUNT;
      if (IS("invokedBy")) return F_U_INVOKED_BY;
      return -1;
    case 14: return IS("sessionContext") ? F_U_CONTEXT : -1;
    default: return -1;
    }
  }
  if (level == LEVEL_TOP) return len == 7 && IS("Records") ? 0 : -1;
  if (level == 2) return len == 13 && IS("sessionIssuer") ? F_U_ISSUER : -1;
  return len == 3 && IS("arn") ? F_U_ISSUER_ARN : -1;
}

#undef IS

static u32 SUFFIX(hex4)(i32 k) {
  u32 v = 0;
  for (i32 h = 0; h < 4; h++) {
    u32 c = S[k + h];
    v = v * 16 + (c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
  }
  return v;
}

// The field an escaped key names (the string at [i, end), already validated by str()): its
// bytes decoded as JSON.parse decodes them, then matched like a plain key.
static i32 SUFFIX(escaped_field)(int level, i32 i, i32 end) {
  CH key[KEY_MAX];
  i32 len = 0;
  for (i32 k = i + 1; k < end - 1; len++) {
    if (len >= KEY_MAX) return -1; // longer than any wanted key
    u32 c = S[k];
    if (c == '\\') {
      c = S[k + 1];
      if (c == 'u') {
        c = SUFFIX(hex4)(k + 2);
        k += 6;
      } else {
        c = c == 'b' ? 8 : c == 'f' ? 12 : c == 'n' ? 10 : c == 'r' ? 13 : c == 't' ? 9 : c;
        k += 2;
      }
    } else {
      k++;
    }
    if (c > 0x7f) return -1; // every wanted key is ASCII
    key[len] = (CH)c;
  }
  return SUFFIX(field)(level, key, len);
}

static i32 SUFFIX(object)(i32 i, i32 *row, int level);

static void SUFFIX(set)(i32 *row, i32 f, i32 start, i32 end, int plain) {
  row[ROW_FIELDS + 2 * f] = start;
  row[ROW_FIELDS + 1 + 2 * f] = end;
  if (plain) row[1] |= 1 << f;
  else row[1] &= ~(1 << f);
}

// The value of a member naming field f (-1: none) at v; the index after it.
static i32 SUFFIX(value)(i32 v, i32 *row, i32 f) {
  i32 end;
  int plain = 0;
  if (f == F_IDENTITY || f == F_U_CONTEXT || f == F_U_ISSUER) {
    // A container whose members are fields too: the last one named wins, so forget what an
    // earlier one set (its fields are the ones after it).
    for (i32 g = f + 1; g < NFIELDS; g++) SUFFIX(set)(row, g, -1, -1, 0);
    if (S[v] == '{') {
      end = SUFFIX(object)(v, row, f == F_IDENTITY ? 1 : f == F_U_CONTEXT ? 2 : 3);
      if (end < 0) return -1;
      SUFFIX(set)(row, f, v, end, 0);
      return end;
    }
  }
  if (S[v] == '"') {
    end = SUFFIX(str)(v);
    plain = !ESC;
  } else {
    end = SUFFIX(skip)(v);
  }
  if (end >= 0 && f >= 0) SUFFIX(set)(row, f, v, end, plain);
  return end;
}

// An object at i ('{') whose members at `level` fill the row.
static i32 SUFFIX(object)(i32 i, i32 *row, int level) {
  i = SUFFIX(ws)(i + 1);
  if (S[i] == '}') return i + 1;
  for (;;) {
    if (S[i] != '"') return -1;
    i32 end = SUFFIX(str)(i);
    if (end < 0) return -1;
    i32 f = ESC ? SUFFIX(escaped_field)(level, i, end) : SUFFIX(field)(level, S + i + 1, end - i - 2);
    i32 v = SUFFIX(ws)(end);
    if (S[v] != ':') return -1;
    v = SUFFIX(ws)(v + 1);
    end = SUFFIX(value)(v, row, f);
    if (end < 0) return -1;
    i = SUFFIX(ws)(end);
    if (S[i] == ',') {
      i = SUFFIX(ws)(i + 1);
      continue;
    }
    if (S[i] == '}') return i + 1;
    return -1;
  }
}


// ---- interning: what the accumulator would otherwise look up by string, per record ----

#define FS(f) (ROW_FIELDS + 2 * (f))
#define PLAIN(row, f) (((row)[1] >> (f)) & 1)

// FNV-style, eight bytes a step (whole values such as requestParameters run to hundreds).
static u32 SUFFIX(hash_range)(u32 h, i32 start, i32 end) {
  const u8 *p = S + start;
  i32 n = end - start, k = 0;
  unsigned long long x = h;
  for (; k + 8 <= n; k += 8) {
    unsigned long long w;
    __builtin_memcpy(&w, p + k, 8);
    x = (x ^ w) * 0x9E3779B97F4A7C15ull;
    x ^= x >> 29;
  }
  for (; k < n; k++) x = (x ^ p[k]) * 0x100000001B3ull;
  x ^= (unsigned long long)n;
  x *= 0x9E3779B97F4A7C15ull;
  return (u32)(x >> 32) ^ (u32)x;
}

static int SUFFIX(same_bytes)(i32 a, i32 b, i32 n) {
  const u8 *p = S + a, *q = S + b;
  i32 k = 0;
  for (; k + 8 <= n; k += 8) {
    unsigned long long x, y;
    __builtin_memcpy(&x, p + k, 8);
    __builtin_memcpy(&y, q + k, 8);
    if (x != y) return 0;
  }
  for (; k < n; k++)
    if (p[k] != q[k]) return 0;
  return 1;
}

static int SUFFIX(same_range)(i32 a, i32 a_end, i32 b, i32 b_end) {
  return a_end - a == b_end - b && SUFFIX(same_bytes)(a, b, a_end - a);
}

// Field f of rows a and b: equal when both are absent, or present with the same text and
// plainness; `shallow`: an object value counts as its kind only (its members are other fields).
static int SUFFIX(same_field)(const i32 *a, const i32 *b, i32 f, int shallow) {
  i32 sa = a[FS(f)], sb = b[FS(f)];
  if (sa < 0 || sb < 0) return sa < 0 && sb < 0;
  if (PLAIN(a, f) != PLAIN(b, f)) return 0;
  if (shallow && (S[sa] == '{' || S[sb] == '{')) return S[sa] == S[sb];
  return SUFFIX(same_range)(sa, a[FS(f) + 1], sb, b[FS(f) + 1]);
}

static u32 SUFFIX(hash_field)(u32 h, const i32 *row, i32 f, int shallow) {
  i32 s = row[FS(f)];
  h = (h ^ (u32)(f + 1) ^ (s < 0 ? 0x100u : PLAIN(row, f) ? 0x200u : 0x400u)) * 16777619u;
  if (s < 0) return h;
  if (shallow && S[s] == '{') return (h ^ '{') * 16777619u;
  return SUFFIX(hash_range)(h, s, row[FS(f) + 1]);
}

static const i32 *SUFFIX(row_at)(i32 index) {
  return (const i32 *)(rows_at + (u32)index * (ROW_WORDS * 4));
}


// The id of the row's key (fields key[0..n), compared as same_field with `shallow`) in table t,
// the next one when it is new; -1 once t is half full (of its slots for this document). Inlined:
// each call site's constant key and `shallow` then specialize it (a call measured slower).
__attribute__((always_inline)) static inline i32
SUFFIX(intern_key)(Table *t, const i32 *row, i32 index, const i32 *key, u32 n, int shallow) {
  u32 h = 2166136261u;
  for (u32 k = 0; k < n; k++) h = SUFFIX(hash_field)(h, row, key[k], shallow);
  for (u32 slot = h & t->mask;; slot = (slot + 1) & t->mask) {
    if (t->gen[slot] != gen) {
      if (t->used > (i32)(t->mask >> 1)) return -1; // full: the caller looks it up itself
      t->gen[slot] = gen;
      t->hash[slot] = h;
      t->row[slot] = index;
      return t->id[slot] = t->used++;
    }
    if (t->hash[slot] != h) continue;
    const i32 *o = SUFFIX(row_at)(t->row[slot]);
    u32 k = 0;
    while (k < n && SUFFIX(same_field)(row, o, key[k], shallow)) k++;
    if (k == n) return t->id[slot];
  }
}

// Into out[0..3] the 128 bits of the 36 characters at `at` when they are a lowercase
// 8-4-4-4-12 UUID (eight hex digits a word, dashes skipped); 0 when they are not.
static int SUFFIX(uuid_words)(i32 at, i32 *out) {
  if (S[at + 8] != '-' || S[at + 13] != '-' || S[at + 18] != '-' || S[at + 23] != '-') return 0;
  u32 word = 0;
  for (i32 r = 0, digits = 0; r < 36; r++) {
    if (r == 8 || r == 13 || r == 18 || r == 23) continue;
    u32 c = S[at + r];
    u32 v;
    if (c >= '0' && c <= '9') v = c - '0';
    else if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
    else return 0;
    word = (word << 4) | v;
    if (++digits % 8 == 0) {
      out[digits / 8 - 1] = (i32)word;
      word = 0;
    }
  }
  return 1;
}

static i32 SUFFIX(digits2)(i32 at) {
  u32 a = S[at] - (u32)'0', b = S[at + 1] - (u32)'0';
  return a <= 9 && b <= 9 ? (i32)(a * 10 + b) : -1;
}

// eventTime's day and second (row[11], row[12]; see scan.c) when the row's value is a plain
// "YYYY-MM-DDTHH:MM:SSZ" of a real Gregorian date from 1970 on.
static void SUFFIX(event_time)(i32 *row) {
  row[11] = -1;
  row[12] = 0;
  i32 s = row[FS(F_TIME)];
  if (s < 0 || !PLAIN(row, F_TIME) || row[FS(F_TIME) + 1] - s != 22) return;
  i32 at = s + 1;
  if (S[at + 4] != '-' || S[at + 7] != '-' || S[at + 10] != 'T' || S[at + 13] != ':' ||
      S[at + 16] != ':' || S[at + 19] != 'Z')
    return;
  i32 c = SUFFIX(digits2)(at), y2 = SUFFIX(digits2)(at + 2), m = SUFFIX(digits2)(at + 5),
      d = SUFFIX(digits2)(at + 8), hh = SUFFIX(digits2)(at + 11), mm = SUFFIX(digits2)(at + 14),
      ss = SUFFIX(digits2)(at + 17);
  if (c < 0 || y2 < 0 || m < 1 || m > 12 || d < 1 || hh < 0 || hh > 23 || mm < 0 || mm > 59 ||
      ss < 0 || ss > 60)
    return;
  i32 y = c * 100 + y2;
  if (y < 1970) return;
  static const u8 DAYS_IN[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (d > DAYS_IN[m - 1] + (m == 2 && leap)) return;
  // Days from 1970-01-01 (the civil-from-days inverse, March-based years).
  i32 yy = m <= 2 ? y - 1 : y;
  i32 era = yy / 400;
  i32 yoe = yy - era * 400;
  i32 doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  i32 doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  row[11] = era * 146097 + doe - 719468;
  row[12] = (hh * 60 + mm) * 60 + ss;
}

// Fills the row's words before its fields (see scan.c) once the record at `index` is scanned.
static void SUFFIX(intern)(i32 *row, i32 index) {
  row[2] = 0;
  row[3] = -1;
  row[4] = -1;
  row[5] = 0;
  row[10] = -1;
  row[11] = -1;
  row[12] = 0;
  if (row[0] != 0) return;
  SUFFIX(event_time)(row);

  // eventID: a plain string is looked up among the earlier ones; an escaped one would have to be
  // decoded to compare, so the caller dedups the whole document itself.
  i32 s = row[FS(F_EVENT_ID)];
  if (s >= 0 && S[s] == '"' && !ids_off) {
    if (!PLAIN(row, F_EVENT_ID) || ids_used > (i32)(id_mask >> 1)) {
      ids_off = 1;
    } else {
      i32 e = row[FS(F_EVENT_ID) + 1];
      u32 h = SUFFIX(hash_range)(2166136261u, s, e);
      for (u32 slot = h & id_mask;; slot = (slot + 1) & id_mask) {
        if (id_gen[slot] != gen) {
          id_gen[slot] = gen;
          id_hash[slot] = h;
          id_row[slot] = index;
          ids_used++;
          break;
        }
        if (id_hash[slot] != h) continue;
        const i32 *o = SUFFIX(row_at)(id_row[slot]);
        if (SUFFIX(same_range)(s, e, o[FS(F_EVENT_ID)], o[FS(F_EVENT_ID) + 1])) {
          row[2] = 1; // a duplicate of an earlier record
          break;
        }
      }
    }
  }

  // Where dup is not exact (a streamed piece, or the table gave up), the caller dedups by value:
  // a plain UUID eventID's bits spare it parsing them. Rows before the table gave up have none;
  // the caller parses the same bits from their strings.
  if (ids_off && s >= 0 && S[s] == '"' && PLAIN(row, F_EVENT_ID) &&
      row[FS(F_EVENT_ID) + 1] - s == 38)
    row[5] = SUFFIX(uuid_words)(s + 1, row + 6);

  // (eventSource, eventName), both plain strings: a pair id.
  if (PLAIN(row, F_SOURCE) && PLAIN(row, F_NAME) && row[FS(F_SOURCE)] >= 0 &&
      row[FS(F_NAME)] >= 0)
    row[3] = SUFFIX(intern_key)(&pairs, row, index, PAIR_KEY, PAIR_KEY_N, 0);

  // userIdentity, when an object: an id per distinct set of the members principalOf reads.
  i32 u = row[FS(F_IDENTITY)];
  if (u >= 0 && S[u] == '{')
    row[4] = SUFFIX(intern_key)(&idents, row, index, IDENTITY_KEY, IDENTITY_KEY_N, 1);

  // What resourcesOf reads besides userIdentity: an id per distinct text of those fields.
  if (!inputs_off) row[10] = SUFFIX(intern_key)(&inputs, row, index, INPUTS_KEY, INPUTS_KEY_N, 0);
}

#undef FS
#undef PLAIN

// One Records element at i into row `count`: the index after it, or -1.
static i32 SUFFIX(element)(i32 i, i32 count) {
  u32 at = rows_at + (u32)count * (ROW_WORDS * 4);
  if (at + ROW_WORDS * 4 > rows_cap) {
    if (!reserve(at + (1u << 20))) return -1;
    rows_cap = memory_end();
  }
  i32 *row = (i32 *)at;
  row[0] = 0;
  row[1] = 0;
  for (i32 f = 0; f < NFIELDS; f++) row[ROW_FIELDS + 2 * f] = -1;
  i32 end;
  if (S[i] == '{') {
    end = SUFFIX(object)(i, row, 0);
  } else {
    row[0] = 1;
    end = SUFFIX(skip)(i);
  }
  row[13] = i;
  row[14] = end;
  if (end >= 0) SUFFIX(intern)(row, count);
  return end;
}

// The elements of Records, whose '[' is at i; one row each.
static i32 SUFFIX(records)(i32 i, i32 *count) {
  i = SUFFIX(ws)(i + 1);
  if (S[i] == ']') return i + 1;
  for (;;) {
    i32 end = SUFFIX(element)(i, *count);
    if (end < 0) return -1;
    ++*count;
    i = SUFFIX(ws)(end);
    if (S[i] == ',') {
      i = SUFFIX(ws)(i + 1);
      continue;
    }
    if (S[i] == ']') return i + 1;
    return -1;
  }
}

// A whole document {... "Records": [...] ...}: the number of records, or -1.
static i32 SUFFIX(document)(const CH *text, i32 n) {
  S = text;
  new_document();
  size_tables((u32)n);
  i32 count = 0;
  int seen = 0;
  i32 i = SUFFIX(ws)(0);
  if (S[i] != '{') return -1;
  i = SUFFIX(ws)(i + 1);
  if (S[i] == '}') return -1; // no Records: NOT_CLOUDTRAIL
  for (;;) {
    if (S[i] != '"') return -1;
    i32 end = SUFFIX(str)(i);
    if (end < 0) return -1;
    int records = (ESC ? SUFFIX(escaped_field)(LEVEL_TOP, i, end)
                       : SUFFIX(field)(LEVEL_TOP, S + i + 1, end - i - 2)) == 0;
    i32 v = SUFFIX(ws)(end);
    if (S[v] != ':') return -1;
    v = SUFFIX(ws)(v + 1);
    if (records) {
      // A second Records would replace the first in JSON.parse: left to it.
      if (seen || S[v] != '[') return -1;
      seen = 1;
      end = SUFFIX(records)(v, &count);
    } else {
      end = SUFFIX(skip)(v);
    }
    if (end < 0) return -1;
    i = SUFFIX(ws)(end);
    if (S[i] == ',') {
      i = SUFFIX(ws)(i + 1);
      continue;
    }
    if (S[i] != '}') return -1;
    return seen && SUFFIX(ws)(i + 1) == n ? count : -1;
  }
}


// Streaming (see scan.c, elements()): the text [0, n) continues the Records array in the state
// stream_state; rows for the elements that end inside it. An element that fails or reaches the
// end is left for the next call (more text may complete it) unless `final`; the caller bounds how
// much it carries. The number of rows, or -1 for text that cannot continue a Records array.
static i32 SUFFIX(elements)(const CH *text, i32 n, int final) {
  S = text;
  new_document();
  size_tables((u32)n);
  ids_off = 1; // the caller dedups eventIDs over the whole stream itself: no id table
  inputs_off = 1; // a piece holds a few dozen records: the inputs ids would rarely repeat
  i32 count = 0;
  i32 i = 0;
  stream_consumed = 0;
  for (;;) {
    i = SUFFIX(ws)(i);
    if (i >= n) return final ? -1 : count;
    if (stream_state == STREAM_AFTER) {
      if (S[i] == ',') {
        stream_state = STREAM_NEXT;
        stream_consumed = ++i;
        continue;
      }
      if (S[i] != ']') return -1;
      stream_state = STREAM_CLOSED;
      stream_consumed = i + 1;
      return count;
    }
    if (stream_state == STREAM_FIRST && S[i] == ']') {
      stream_state = STREAM_CLOSED;
      stream_consumed = i + 1;
      return count;
    }
    if (stream_state != STREAM_FIRST && stream_state != STREAM_NEXT) return -1;
    i32 end = SUFFIX(element)(i, count);
    // A scalar element (or anything) touching the end may go on in the next piece.
    if (end < 0 || (end >= n && !final)) return final ? -1 : count;
    count++;
    stream_state = STREAM_AFTER;
    stream_consumed = i = end;
  }
}

#undef S
#undef ESC
