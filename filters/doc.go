// Package filters compiles the eventroute plugin configuration (pluginConfig,
// SPEC §3) into an immutable Router that recognizes events in HTTP requests
// and matches them against routes, mirrors and publisher rules.
//
//	r, err := filters.Compile(pluginConfig) // *ConfigError with a JSON path
//	c := r.Classify(headers)                // from headers alone
//	err = r.Recognize(c, headers, body, &batch)
//	route := r.Route(&batch.Events[0])      // first match, or -1
//	mirrors := r.Mirrors(&batch.Events[0], mirrors[:0])
//
// # Configuration
//
// Parsing is strict: unknown fields, duplicate keys, wrong JSON types, bad
// durations, unknown subscribers, empty filters, bad gjson paths, duplicate
// names and out-of-range numbers are errors whose Path names the fault, e.g.
// "routes[2].match[0].exact: empty"; check the kind with errors.Is. A JSON
// null counts as an absent field. Every route, mirror and JSON profile needs
// a unique name (it appears in metric names); routes and mirrors need an
// explicit match ([] matches every event). A dead-letter chain must not loop.
// Bounds: names 1-128 characters of [A-Za-z0-9._-]; attribute names at most
// 64 characters; retry.attempts 1-100; limits 1 to 2^31-1 (maxHops 1-255);
// durations > 0; percent 0-100; documents nested at most 64 deep and valid
// UTF-8. routeHeader must not be a header requests need (ce-*, content-type,
// content-length, host, transfer-encoding, x-eventroute-hop), because the
// plugin removes it from every request.
//
// When recognize is absent every CloudEvents mode is enabled; when
// recognize.cloudevents is absent but recognize.json is given, the
// CloudEvents modes stay enabled too. A JSON profile attribute is either a
// gjson path into the body ("order.id") or {"header": "x-event-id"}.
//
// # Filters
//
// A match list holds when every filter holds (SPEC §3.1). Attribute names are
// lower-case [a-z0-9]+; values of exact, prefix and suffix are non-empty
// strings. A data filter holds when every operator given holds on the value at
// its gjson path: eq, ne and in compare by JSON type and value (strings,
// numbers, booleans); gt, ge, lt and le need a JSON number; prefix and suffix
// a JSON string; exists a boolean. Events without JSON data have no values, so
// only exists:false holds for them.
//
// # gjson paths
//
// Data filters and JSON profile attributes use gjson paths. Compile accepts
// the part of the syntax that reads one value unambiguously: dot-separated
// keys, `\` escapes, `*` and `?` wildcards, array indexes, `#` (array
// length), `|`, queries `#(...)` and `#(...)#` with balanced parentheses and
// closed string literals, and the whole path "@this". It refuses (as
// ErrBadGJSONPath): an empty path or component (`a..b`, a leading or trailing
// `.`), a leading `..` (JSON Lines), modifiers (`@reverse`), literals
// (`!true`), multipaths (`[a,b]`, `{a,b}`), brackets, braces, parentheses or
// quotes outside a query unless escaped, a dangling `\`, control characters,
// invalid UTF-8 and paths over 256 bytes.
//
// # Matching
//
// Consecutive routes (or mirrors, or publisher rules) that all require an
// exact value of the same attribute are looked up in a map keyed by that
// value; other rules are tried in order, so first-match-wins is kept exactly
// and matching cost stays flat as such rules grow.
//
// Publisher rules: when one or more rules match an event, the principal must
// be listed in every matching rule.
package filters
