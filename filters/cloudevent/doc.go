// Package cloudevent reads and writes CloudEvents carried over HTTP: the HTTP
// protocol binding (binary, structured and batched mode) and the JSON event
// format, version 1.0.
//
// Reading never copies the request body: an event's Data aliases the body it
// was read from. Binary mode reuses the caller's event and allocates nothing
// when no header value needs decoding.
//
//	switch cloudevent.DetectMode(headers) {
//	case event.ModeBinary:
//		err = cloudevent.ReadBinary(headers, body, &ev)
//	case event.ModeStructured:
//		err = cloudevent.ReadStructured(body, &ev)
//	case event.ModeBatch:
//		events, err = cloudevent.ReadBatch(body, maxEvents, events)
//	}
//
// Invalid events are reported as *InvalidError, whose Reason is checked with
// errors.Is (errors.Is(err, cloudevent.ErrMissingAttribute)). Error texts are
// safe to show to clients: they name the attribute and the fault, never the
// payload.
//
// # Decisions where the specification leaves room
//
//   - Header values are decoded as the HTTP binding says (RFC 7230 quoted
//     string, then one round of percent-decoding, lower-case hex accepted,
//     invalid UTF-8 rejected). The Go and Java SDKs send values unencoded, so a
//     value that is not valid percent-encoding as a whole ("100%") is taken as
//     it is. A value that is valid percent-encoding is always decoded, so an
//     unencoded "50%25" from such an SDK reads as "50%": the binding gives no
//     way to tell the two apart.
//   - Every string attribute must be valid UTF-8 without control characters
//     (U+0000–U+001F, U+007F–U+009F) or Unicode noncharacters.
//   - A ce-datacontenttype header is invalid (ErrDuplicateAttribute): the
//     binding says it MUST NOT be present, and Content-Type carries the value.
//   - A ce- header whose attribute name is not [a-z0-9]+ (or is "data") makes
//     the event invalid (ErrBadAttributeName), as it does in sdk-go. Repeated
//     ce- headers and repeated JSON members are invalid (ErrDuplicateAttribute),
//     so that no two readers can disagree about which value counts.
//   - A content type of another CloudEvents format (application/cloudevents+avro)
//     is read as binary mode when ce-specversion is present; without it the
//     request is not recognized as an event and passes unchanged.
//   - Binary-mode data is JSON for a JSON content type (not validated when
//     reading; encoding falls back to data_base64 when it is not valid JSON),
//     text for text/* and XML content types when it is valid UTF-8, and binary
//     otherwise (data_base64 in structured form).
//   - JSON numbers in extensions are rendered as CloudEvents Integers when they
//     are integral and fit 32 bits; other numbers keep their JSON text. An
//     extension keeps its JSON type (string, number or boolean, in
//     event.Attr.Kind), so the structured and batched encodings write it back
//     with the type it was read with. Binary-mode headers carry no type: an
//     extension read from a ce- header is a string in a structured copy, as
//     the HTTP binding says.
//   - time must be an RFC 3339 timestamp (ErrBadAttributeValue), as sdk-go
//     requires; source and dataschema are not parsed as URIs.
//   - Structured and batched bodies must be valid UTF-8 and valid JSON
//     (RFC 8259) with arrays and objects nested at most 1000 deep. A JSON
//     member given twice is invalid. Attributes are copied out of the body;
//     data aliases it.
//   - Events are encoded for delivery exactly per the JSON format and the HTTP
//     binding. sdk-go (v2.16) does not percent-decode binary-mode header
//     values, so a Go subscriber sees a non-ASCII or space-carrying value
//     percent-encoded; values of printable ASCII without space, '"' or '%'
//     reach it unchanged.
package cloudevent
