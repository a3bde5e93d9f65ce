"""The reference of the mapping language: every YAML key and every transform, each with what it
does and an example. `tongban mapping docs` writes it into docs/mappings.md (between the
generated markers); tests/unit/test_mapping_docs.py runs every transform example and checks that
nothing the engine accepts is missing here."""
from __future__ import annotations

# name -> (what it does, [(input, output)]); an output of None means "no value"
TRANSFORMS = {
    "trim": ("leading and trailing white space removed", [(" 张伟 ", "张伟")]),
    "halfwidth": ("full-width ASCII (ＡＢ１２，．（）) to ASCII, the ideographic space to a space",
                  [("ＡＢ１２（）", "AB12()")]),
    "halfwidth_alnum": ("only full-width letters, digits and spaces to ASCII: a registered name keeps its （）",
                        [("杭州ＡＢ（中国）", "杭州AB（中国）")]),
    "upper": ("upper case", [("91330106ma2kq8r391", "91330106MA2KQ8R391")]),
    "lower": ("lower case", [("COMMERCE", "commerce")]),
    "none_if_empty": ("blank text is no value", [("  ", None)]),
    "null_marker": ("a NULL marker (`NULL`, `(null)`, `\\N`, ...) is no value; other text passes",
                    [("NULL", None), ("张伟", "张伟")]),
    "int": ("a whole number; true/false refused", [(" 3 ", 3)]),
    "float": ("a number as a float: for ratios only (money and areas are `decimal`)", [("0.25", 0.25)]),
    "str": ("the value as text", [(12, "12")]),
    "decimal": ("exact decimal text, scale as written; `{decimal: {unit: 万元}}` converts amounts written with "
                "a unit (*decimal: amounts as written*)", [("1,234.50", "1234.50")]),
    "datetime": ("an aware time in Asia/Shanghai from any of the forms in *datetime / date*; zero dates and NULL markers are "
                 "no value", [("2026/3/5 8:00", "2026-03-05T08:00:00+08:00")]),
    "date": ("a calendar date: the time at local midnight", [("2026年3月5日", "2026-03-05T00:00:00+08:00")]),
    "project_code": ("the 24-character investment project code (投资项目统一代码), checked by shape",
                     [("2026-330106-24-01-318402", "2026-330106-24-01-318402")]),
}

# Transforms that take parameters: name -> {parameter: (meaning, example value)}
PARAMETERS = {
    "decimal": {"unit": ("the field's unit: a number written with another unit of its kind is converted", "万元"),
                "bare": ("the unit of a number written without one (default: `unit`)", "元")},
}
PARAMETER_EXAMPLES = {"decimal": ({"unit": "万元"}, "3亿元", "30000")}

# key -> (values, meaning, example line of YAML)
TOP_KEYS = {
    "name": ("text", "the mapping's name, `<dept>.<kind>` by custom; with `version` it names the mapping "
             "in every envelope (`mapping: name@version`)", "name: commerce.case_event"),
    "version": ("whole number", "raise it when the output for the same record changes", "version: 1"),
    "department": ("department", "the department whose records these are", "department: commerce"),
    "system": ("text", "the legacy system the records come from: an adapter's `system`", "system: commerce-registry"),
    "kind": ("case_event, case, certificate, application, service_item", "the canonical model it makes",
             "kind: case_event"),
    "description": ("text", "one line for people (the docs and `mapping try`)",
                    "description: enterprise registration step as a case event"),
    "when": ("condition", "the records this mapping takes (others go to the system's other mappings; a record "
             "none takes is refused): `{path, equals}`, `{path, in: [...]}`, `{all: [...]}`, `{any: [...]}`; values "
             "are compared trimmed and half-width", 'when: {path: eventCode, in: ["01", "02"]}'),
    "record_key": ("template", "names the source record (message id, the store): `{path}` pieces",
                   'record_key: "{eventId}"'),
    "record_version": ("template", "changes when, and only when, the record's content does (default `1`)",
                       'record_version: "{updatedAt}"'),
    "envelope": ("field specs", "`case_no` / `sequence` of the envelope when the payload has none",
                 "envelope: {case_no: {path: SQBH, required: true}}"),
    "fields": ("canonical path -> field spec", "what the canonical payload holds, dotted paths for nested "
               "objects (`applicant.name`)", "fields: {case_no: applyNo}"),
    "code_tables": ("name -> {code: value}", "the system's codes and the canonical values they stand for",
                    'code_tables: {event_code: {"01": accepted}}'),
    "sequence": ("gap_free (default), ordered, none", "how the department numbers a case's steps (*File keys about a department's records*, above)",
                 "sequence: ordered"),
    "versions": ("conflict (default), supersede", "what a record sent again with other content is (*File keys about a department's records*, above)",
                 "versions: supersede"),
}

FIELD_KEYS = {
    "path": ("dotted path", "where the value is in the record; digits index lists (`lerepList.0.name`); a bare "
             "string is short for `{path: ...}`", "case_no: {path: applyNo}"),
    "const": ("any value", "a fixed value", "department: {const: commerce}"),
    "transform": ("name or list", "applied in order; one with parameters is `{name: {param: value}}`",
                  "case_no: {path: applyNo, transform: [trim, halfwidth, upper]}"),
    "null_values": ("list of text", "source texts meaning none, compared trimmed",
                    "valid_to: {path: validTo, transform: date, null_values: [长期]}"),
    "code_table": ("table name", "the transformed value looked up in `code_tables`; a code not there refuses "
                   "the record naming it", "type: {path: eventCode, code_table: event_code}"),
    "pattern": ("regular expression", "the transformed value must match it whole",
                r"attributes.parcel_code: {path: ZDDM, pattern: '\d{12}[A-Z]{2}\d{5}'}"),
    "default": ("any value", "used when the value is missing or none", "channel: {path: channel, default: online}"),
    "required": ("true / false", "a missing, none or blank value refuses the record naming the field (and the "
                 "NULL marker or zero date it was)", "case_no: {path: applyNo, required: true}"),
    "text": ("refuse, flag", "human text checked for the marks of a lossy conversion: refused at stage decode, or "
             "taken and flagged in the envelope's `flags`", "handler: {path: operator, text: refuse}"),
}

LIST_KEYS = {
    "each": ("dotted path", "the list in the record; a missing list or NULL is the empty list, a value that is "
             "not a list refuses the record", "materials: {each: materialList, fields: {name: clmc}}"),
    "fields": ("item path -> field spec", "one spec per field of a canonical item; its paths are relative to "
               "the source item", "fields: {name: {path: clmc, required: true}}"),
    "when": ("condition", "only the items for which it holds (paths relative to the item)",
             'when: {path: sfyx, equals: "1"}'),
}
