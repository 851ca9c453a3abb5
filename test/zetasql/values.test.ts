import { decodeNumeric, encodeNumeric, fromValueProto, toValueProto } from "../../src/zetasql";
import {
  decodeTwosComplementLE,
  encodeTwosComplementLE,
  formatScaledDecimal,
  parseScaledDecimal,
  parseTimestamp,
} from "../../src/zetasql/values";

describe("NUMERIC encoding (value × 10^9, little-endian two's complement, fewest bytes)", () => {
  it.each([
    ["0", [0x00]],
    ["1", [0x00, 0xca, 0x9a, 0x3b]],
    ["-1", [0x00, 0x36, 0x65, 0xc4]],
    ["0.000000128", [0x80, 0x00]],
    ["-0.000000128", [0x80]],
    ["0.000000127", [0x7f]],
    ["-0.000000129", [0x7f, 0xff]],
  ])("%s", (text, bytes) => {
    expect([...encodeNumeric(text)]).toEqual(bytes);
    expect(decodeNumeric(Buffer.from(bytes))).toBe(text);
  });

  it("round-trips the extremes of NUMERIC exactly", () => {
    for (const text of [
      "99999999999999999999999999999.999999999",
      "-99999999999999999999999999999.999999999",
      "123456789012.345678",
      "0.333333333",
    ]) {
      expect(decodeNumeric(encodeNumeric(text))).toBe(text);
    }
  });

  it("parses and formats decimals without floats", () => {
    expect(parseScaledDecimal("12.5", 9)).toBe(12_500_000_000n);
    expect(parseScaledDecimal("1e-9", 9)).toBe(1n);
    expect(parseScaledDecimal("-.5", 9)).toBe(-500_000_000n);
    expect(parseScaledDecimal("2.5000000000", 9)).toBe(2_500_000_000n);
    expect(() => parseScaledDecimal("0.0000000001", 9)).toThrow(
      '"0.0000000001" has more than 9 decimal places',
    );
    expect(() => parseScaledDecimal("1,5", 9)).toThrow('not a decimal number: "1,5"');
    expect(formatScaledDecimal(-1_000_000_001n, 9)).toBe("-1.000000001");
    expect(decodeTwosComplementLE(encodeTwosComplementLE(-(2n ** 100n)))).toBe(-(2n ** 100n));
  });
});

describe("value conversion", () => {
  it("converts TIMESTAMP with microseconds and zones", () => {
    expect(parseTimestamp("2024-05-10T12:00:00.123456Z")).toEqual({
      seconds: "1715342400",
      nanos: 123_456_000,
    });
    expect(parseTimestamp("2024-05-10 14:00:00+02:00")).toEqual({
      seconds: "1715342400",
      nanos: 0,
    });
    expect(parseTimestamp(new Date("2024-05-10T12:00:00.250Z"))).toEqual({
      seconds: "1715342400",
      nanos: 250_000_000,
    });
    expect(
      fromValueProto(
        { value: "timestampValue", timestampValue: { seconds: "1715342400", nanos: 123_456_000 } },
        { typeKind: "TYPE_TIMESTAMP" },
      ),
    ).toBe("2024-05-10T12:00:00.123456Z");
  });

  it("converts the other BigQuery types both ways", () => {
    expect(toValueProto("2024-02-29", "DATE")).toEqual({ dateValue: 19782 });
    expect(
      fromValueProto({ value: "dateValue", dateValue: 19782 }, { typeKind: "TYPE_DATE" }),
    ).toBe("2024-02-29");
    expect(toValueProto(9007199254740993n, "INTEGER")).toEqual({ int64Value: "9007199254740993" });
    expect(toValueProto("-42", "INTEGER")).toEqual({ int64Value: "-42" });
    expect(toValueProto({ a: [1, "x"] }, "JSON")).toEqual({ jsonValue: '{"a":[1,"x"]}' });
    expect(toValueProto(true, "BOOLEAN")).toEqual({ boolValue: true });
    expect(toValueProto(null, "STRING")).toEqual({});
    expect(fromValueProto({}, { typeKind: "TYPE_STRING" })).toBeNull();
  });

  it("rejects values that do not fit the type", () => {
    expect(() => toValueProto(1.5, "INTEGER")).toThrow("1.5 is not a valid INTEGER value");
    expect(() => toValueProto(2 ** 60, "INTEGER")).toThrow("is not a valid INTEGER value");
    expect(() => toValueProto(3, "STRING")).toThrow("3 is not a valid STRING value");
    expect(() => toValueProto("2024-13-45x", "DATE")).toThrow('not a date: "2024-13-45x"');
    expect(() => toValueProto("yesterday", "TIMESTAMP")).toThrow('not a timestamp: "yesterday"');
  });
});
