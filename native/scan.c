// The WebAssembly record scanner (workers/wasm.ts loads it): one pass over a CloudTrail log
// document, validating it as strictly as JSON.parse does, that writes for every record where the
// few fields the accumulator reads lie (offsets into the text) and builds nothing else. The text
// arrives as bytes (ASCII, or valid UTF-8: the caller checks it), which the caller reads through
// their latin1 string, byte i as char i, so every offset indexes that JS string directly; a
// string holding a byte >= 0x80 is not plain, and the caller decodes it from the bytes.
// scan_impl.h holds the scanner.
//
// Contract (as workers/scan.ts): scan() either returns the number of records, having written one
// row per Records element, or -1 when the text is not valid JSON, not a CloudTrail document, or
// uses something this scanner leaves to JSON.parse (a second "Records", nesting deeper than
// MAX_DEPTH). On -1 the caller takes the JSON.parse path, which decides the error. Escaped keys
// are decoded and matched as JSON.parse reads them; duplicate keys: the last one wins.
//
// Build: npm run build:wasm (clang --target=wasm32, no libc). Memory: [input][rows], grown on
// demand; a row is ROW_WORDS int32 (see below), so 244 bytes per record.

#include <wasm_simd128.h>

typedef unsigned char u8;
typedef int i32;
typedef unsigned int u32;

// The layout shared with workers/wasm.ts. Bump ABI when anything below changes.
#define ABI 10
enum {
  // record fields
  F_EVENT_ID, F_EVENT_TYPE, F_EVENT_CATEGORY, F_INSIGHT, F_SOURCE, F_NAME, F_TIME, F_TIMESTAMP,
  F_ERROR_CODE, F_ERROR_MESSAGE, F_REGION, F_RECIPIENT, F_RESOURCES, F_REQUEST, F_RESPONSE,
  // userIdentity's value, and the members principalOf reads of it when it is an object
  F_IDENTITY, F_U_TYPE, F_U_ARN, F_U_ACCOUNT, F_U_INVOKED_BY,
  // userIdentity.sessionContext's value, its sessionIssuer's value, and that issuer's arn
  F_U_CONTEXT, F_U_ISSUER, F_U_ISSUER_ARN,
  NFIELDS
};
// A row: [kind (0 object, 1 any other element), plain bits (field f's value is a string without
// a backslash, and as bytes without a byte >= 0x80), dup (1: its eventID, a plain string, is an
// earlier record's), pair (an id per distinct plain (eventSource, eventName) in this document, or
// -1), identity (an id per distinct userIdentity object as principalOf reads it: type, arn,
// accountId, invokedBy, sessionContext and its sessionIssuer and arn; or -1), uuid (1 when dup is
// not exact and the eventID is a plain lowercase 8-4-4-4-12 UUID, then its 128 bits in the next
// four words, eight hex digits each, first digit highest), then start and end of each field's
// value (start -1 when absent)]. Ids compare raw text: two spellings of one value get two ids,
// which costs the caller a second lookup, never a wrong answer. dup is exact only when
// ids_deduped() says so (no eventID in the document was an escaped string and the table did not
// fill); where it is not (a streamed piece), the caller dedups by the uuid words, or by the
// string. Then inputs: an id per distinct (eventName, awsRegion, recipientAccountId, resources,
// requestParameters, responseElements) of this document, by their whole text, or -1: with the
// identity id, everything resourcesOf reads of a record. Last, time: when eventTime is a plain
// "YYYY-MM-DDTHH:MM:SSZ" of a real date from 1970 on (hour < 24, minute < 60, second < 61), its
// day since 1970-01-01 and second of the day; else -1 and 0 (the caller parses the string).
// Then where the element itself starts and ends: the caller's text for a record need hold no more.
#define ROW_FIELDS 15
#define ROW_WORDS (ROW_FIELDS + 2 * NFIELDS)
#define MAX_DEPTH 10000

extern u8 __heap_base;

static u32 input_at;   // byte address of the text
static u32 rows_at;    // byte address of the first row
static u32 rows_cap;   // byte address past the memory the rows may use
static u8 depth_stack[MAX_DEPTH];

// Interning tables, open addressing, reset per document by a generation stamp. A table more than
// half full (of the slots sized to the document) stops taking new entries (its rows get -1; the
// id table turns dedup off).
#define ID_SLOTS (1 << 17)
#define PAIR_SLOTS (1 << 13)
#define IDENT_SLOTS (1 << 15)
static u32 gen;
// Slots in use minus one, per table, for this document: sized to it (size_tables), so a small
// file's probes stay within a few cache-resident kilobytes instead of spreading over the table.
static u32 id_mask;
static u32 id_gen[ID_SLOTS], id_hash[ID_SLOTS];
static i32 id_row[ID_SLOTS];
static i32 ids_used, ids_off;
// A table of ids by key (intern_key in scan_impl.h): its slots' arrays, the ids given so far.
typedef struct {
  u32 *gen, *hash;
  i32 *row, *id;
  i32 used;
  u32 mask;
} Table;
#define INPUT_SLOTS (1 << 15)
static u32 pair_gen[PAIR_SLOTS], pair_hash[PAIR_SLOTS];
static i32 pair_row[PAIR_SLOTS], pair_id[PAIR_SLOTS];
static u32 ident_gen[IDENT_SLOTS], ident_hash[IDENT_SLOTS];
static i32 ident_row[IDENT_SLOTS], ident_id[IDENT_SLOTS];
static u32 input_gen[INPUT_SLOTS], input_hash[INPUT_SLOTS];
static i32 input_row[INPUT_SLOTS], input_id[INPUT_SLOTS];
static Table pairs = {pair_gen, pair_hash, pair_row, pair_id, 0, 0};
static Table idents = {ident_gen, ident_hash, ident_row, ident_id, 0, 0};
static Table inputs = {input_gen, input_hash, input_row, input_id, 0, 0};
static i32 inputs_off; // a streamed piece: no inputs ids (too few records to repeat)

// (eventSource, eventName): the pair id's key.
static const i32 PAIR_KEY[] = {F_SOURCE, F_NAME};
#define PAIR_KEY_N (sizeof PAIR_KEY / sizeof PAIR_KEY[0])
// The members of userIdentity that principalOf reads (its result depends on nothing else).
static const i32 IDENTITY_KEY[] = {F_U_TYPE,    F_U_ARN,    F_U_ACCOUNT,   F_U_INVOKED_BY,
                                   F_U_CONTEXT, F_U_ISSUER, F_U_ISSUER_ARN};
#define IDENTITY_KEY_N (sizeof IDENTITY_KEY / sizeof IDENTITY_KEY[0])
// The fields besides userIdentity that resourcesOf reads (src/catalog/resources.ts).
static const i32 INPUTS_KEY[] = {F_NAME,      F_REGION,  F_RECIPIENT,
                                 F_RESOURCES, F_REQUEST, F_RESPONSE};
#define INPUTS_KEY_N (sizeof INPUTS_KEY / sizeof INPUTS_KEY[0])

// Streaming state across elements() calls: where in the Records array the next text starts,
// and where this call's text stopped being consumed (bytes).
enum { STREAM_FIRST, STREAM_NEXT, STREAM_AFTER, STREAM_CLOSED };
static i32 stream_state, stream_consumed;

// Set by the byte scanner when a string held a byte >= 0x80: the text is UTF-8 read as bytes
// (the caller's string is their latin1 view), and such strings are marked not plain, so the
// caller decodes them from the bytes. Reset per document or streamed piece.
static i32 HIGH;

// A table's slots for a text of `bytes` bytes: about one per 128 bytes (a record takes hundreds),
// a power of two from 1024 up to the table's size.
static u32 slots_for(u32 bytes, u32 max) {
  u32 slots = 1024;
  while (slots < max && slots < bytes / 128) slots <<= 1;
  return slots < max ? slots : max;
}

static void size_tables(u32 bytes) {
  id_mask = slots_for(bytes, ID_SLOTS) - 1;
  pairs.mask = slots_for(bytes, PAIR_SLOTS) - 1;
  idents.mask = slots_for(bytes, IDENT_SLOTS) - 1;
  inputs.mask = slots_for(bytes, INPUT_SLOTS) - 1;
}

static void new_document(void) {
  gen++;
  ids_used = ids_off = pairs.used = idents.used = inputs.used = inputs_off = 0;
  HIGH = 0;
}

// 1 when a string of the last scan or piece held a byte >= 0x80 (see HIGH).
__attribute__((export_name("high_bytes"))) i32 high_bytes(void) { return HIGH; }

// 1 when every row's dup word of the last scan is exact (see the row layout).
__attribute__((export_name("ids_deduped"))) i32 ids_deduped(void) { return !ids_off; }

static u32 memory_end(void) { return (u32)__builtin_wasm_memory_size(0) * 65536u; }

static int reserve(u32 end) {
  u32 have = memory_end();
  if (end <= have) return 1;
  u32 pages = (end - have + 65535u) / 65536u;
  return __builtin_wasm_memory_grow(0, pages) != (unsigned long)-1;
}

__attribute__((export_name("abi"))) i32 abi(void) { return ABI; }
__attribute__((export_name("row_words"))) i32 row_words(void) { return ROW_WORDS; }
__attribute__((export_name("fields"))) i32 fields(void) { return NFIELDS; }

// Room for `bytes` bytes of text; returns its address (0 when memory cannot grow).
__attribute__((export_name("input"))) u32 input(u32 bytes) {
  input_at = ((u32)&__heap_base + 15u) & ~15u;
  rows_at = (input_at + bytes + 16u + 15u) & ~15u; // 16 spare bytes: reads past the end see 0
  // (a 16-byte load at any index up to the end stays inside them)
  if (!reserve(rows_at + 64u * 1024u)) return 0;
  rows_cap = memory_end();
  u8 *pad = (u8 *)(input_at + bytes);
  for (int k = 0; k < 16; k++) pad[k] = 0;
  return input_at;
}

__attribute__((export_name("rows"))) u32 rows(void) { return rows_at; }

// Escaped keys (rare, but JSON.parse decodes them, so must we) are decoded before they are
// matched; none longer than KEY_MAX can be wanted.
#define KEY_MAX 24
#define LEVEL_TOP 4

static int is_hex(u32 c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

#define CH u8
#define SUFFIX(name) name##_8
#include "scan_impl.h"
#undef CH
#undef SUFFIX

// Scans the `bytes` bytes of text at input().
__attribute__((export_name("scan"))) i32 scan(u32 bytes) {
  return document_8((const u8 *)input_at, (i32)bytes);
}

// Streaming, for files too large to hold: the caller has read `{"Records":[` itself and feeds
// the array's text piece by piece. stream_start() before the first piece; elements() scans one
// piece at input() (rows as scan() writes them, with interning ids per piece) and returns its
// row count or -1; stream_consumed() is where the next piece must start (the rest is carried),
// stream_closed() whether the array's ']' was reached (consumed then points past it). `final`:
// no more text will come, so an element left unfinished is an error.
__attribute__((export_name("stream_start"))) void stream_start(void) {
  stream_state = STREAM_FIRST;
}
__attribute__((export_name("elements"))) i32 elements(u32 bytes, i32 final) {
  return elements_8((const u8 *)input_at, (i32)bytes, final);
}
__attribute__((export_name("stream_consumed"))) i32 consumed(void) { return stream_consumed; }
__attribute__((export_name("stream_closed"))) i32 closed(void) {
  return stream_state == STREAM_CLOSED;
}

