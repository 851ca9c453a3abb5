/**
 * JSON texts with a canonical form, shared by the text path's tests (each held to ZetaSQL's
 * TO_JSON_STRING, test/data/canonical-json.test.ts) and the byte path's (held to the text path,
 * test/data/canonical-json-bytes.test.ts).
 */
export const ACCEPTED = [
  '{"b":1,"a":[1.0,2.50,1e2,-0,0.1,1.7976931348623157e308,5e-324]}',
  '{"q":"he said \\"hi\\"","u":"\\u00e9\\ud83d\\ude00","slash":"\\/","ctl":"\\u0001\\b\\f\\n\\r\\t"}',
  "[1e-5,1e16,1e15,123456789012345.6,0.0001,1.5e300,1e21,-2.5e-7,-0.0,1e17]",
  "[18446744073709551615,-9223372036854775808,9007199254740993,12345678901234567]",
  // Integers of up to 18 digits take a fast path (their own text); 19 digits and more do not.
  "[999999999999999999,-999999999999999999,1000000000000000000,-0,0,-7,10,100,2.5e0]",
  '{"é":1,"z":2,"Z":3,"😀":4,"\\uffff":5,"":6}',
  '  {\n "pretty" : [ 1 ,\n 2 ] , "x" : { } , "y" : [ ] }  ',
  '"a string \\u007f\\u00a0\\u2028"',
  "true",
  "0",
  "-1.25E+3",
  // Many keys (past the point where duplicate detection switches to a set), some non-ASCII.
  `{${Array.from({ length: 40 }, (_, i) => `"${i % 7 === 0 ? "é" : "k"}${39 - i}":${i}`).join(",")}}`,
  // Decimals printed as their own text (at most 15 significant digits, no trailing zero, at most
  // three zeros after "0.") and their neighbours printed from the double.
  "[0.5,-0.5,12.345001,-12.345001,2.5,0.1,4.35,0.0001,0.0001234,0.000123456789012345,123456789012345]",
  "[12345678901234.5,99999999999999.9,-0.999999999999999,1.5,10.25,100.125,0.001,0.01]",
  "[2.50,0.00001,0.00001234,1.5e0,12345678901234.50,0.1000,0.1234567890123456,999999999999999.9]",
  "[1.000000000000001,0.30000000000000004,1.0000000000000002,5.0,0.0,-0.0,0.5e1,25e-1]",
  // A number whose canonical form is longer than its text, many times over.
  `[${Array.from({ length: 60 }, () => "1e14").join(",")}]`,
  // MariaDB's JSON_OBJECT text: keys out of order at the top (put in order as the output is
  // copied into its string), in Latin-1 and beyond it.
  '{"path": "/p/12", "n": 5, "label": "x", "items": [2, 2.5]}',
  '{"path": "/p/12", "n": 5, "label": "café \\"😀\\"", "items": [2, 2.5]}',
  '{"path": "/p/12", "n": 5, "label": "ÿ", "items": [2, 2.5]}',
  '{"path": "/p/12", "n": 5, "label": "Ā", "items": [2, 2.5]}',
  // Out of order below the top (moved in place), and in order already.
  '{"b":{"d":1,"c":[{"f":1,"e":{"h":null,"g":true}}]},"a":[{"z":1,"y":2}],"0":{"k":"€","j":"é"}}',
  '[{"b":1,"a":2},{"d":{"f":1,"e":2},"c":3}]',
  '{"a":1,"b":[1,2],"c":{"d":3,"e":{}},"é":"😀"}',
  // Keys alike in their first two units, or ending there, and ordered by later ones.
  '{"ab":1,"a":2,"abc":3,"aa":4,"b":5,"":6,"a ":7,"a!":8,"abd":9,"ab ":10}',
  // Keys with units past U+D800 at the start (ordered as UTF-8, not by UTF-16 units).
  '{"中b":1,"中a":2,"\uffffa":3,"😀":4,"\ue000":5,"é":6,"ÿ":7,"Ā":8,"😀a":9,"\ud83d\ude01":10}',
  // Keys printed with escapes (compared as the keys they decode to).
  '{"\\n":1,"\\u0041":2,"\\"":3,"B":4,"\\\\":5,"a\\tb":6,"a":7,"\\u0001":8,"\\/":9}',
  // Strings whose escapes print otherwise: `\/`, \u escapes of plain characters, upper-case hex.
  '["\\/","\\u0041\\u00e9\\u20ac","\\u001F\\u001f","\\u0022\\u005C","\\u007F","a\\u0000b"]',
  // Insertion sort (at most 32 members) and Array#sort (more), both out of order.
  `{${Array.from({ length: 32 }, (_, i) => `"${i % 5 === 0 ? "é" : "k"}${99 - i}":${i}`).join(",")}}`,
  `{${Array.from({ length: 33 }, (_, i) => `"${i % 5 === 0 ? "😀" : "k"}${99 - i}":${i}`).join(",")}}`,
];
