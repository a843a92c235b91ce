package cloudevent

import "strconv"

// Reason is the kind of fault that makes an event invalid. Check it with
// errors.Is(err, ErrMissingAttribute) and so on.
type Reason uint8

// The reasons an event is invalid.
const (
	ErrMissingAttribute   Reason = iota + 1 // a required attribute is absent
	ErrEmptyAttribute                       // an attribute that must not be empty is empty
	ErrBadSpecVersion                       // specversion is not "1.0"
	ErrBadEncoding                          // percent-encoding, UTF-8, control characters or base64
	ErrBadJSON                              // the body is not the JSON the mode requires
	ErrDataConflict                         // both data and data_base64 are present
	ErrBatchTooLarge                        // a batch holds more events than allowed
	ErrBadAttributeName                     // an attribute name is not [a-z0-9]+ or is reserved
	ErrBadAttributeType                     // an attribute has a JSON type it cannot have
	ErrDuplicateAttribute                   // an attribute is given more than once
	ErrBadAttributeValue                    // a value does not fit its attribute's type (time)
)

// lastReason is the highest Reason value.
const lastReason = ErrBadAttributeValue

// describe returns the Go name and the short text of a reason.
func (r Reason) describe() (name, text string) {
	switch r {
	case ErrMissingAttribute:
		return "ErrMissingAttribute", "missing"
	case ErrEmptyAttribute:
		return "ErrEmptyAttribute", "empty"
	case ErrBadSpecVersion:
		return "ErrBadSpecVersion", "unsupported specversion, want 1.0"
	case ErrBadEncoding:
		return "ErrBadEncoding", "invalid encoding"
	case ErrBadJSON:
		return "ErrBadJSON", "invalid JSON"
	case ErrDataConflict:
		return "ErrDataConflict", "data and data_base64 are exclusive"
	case ErrBatchTooLarge:
		return "ErrBatchTooLarge", "too many events in batch"
	case ErrBadAttributeName:
		return "ErrBadAttributeName", "invalid attribute name, want [a-z0-9]+"
	case ErrBadAttributeType:
		return "ErrBadAttributeType", "invalid JSON type"
	case ErrDuplicateAttribute:
		return "ErrDuplicateAttribute", "given more than once"
	case ErrBadAttributeValue:
		return "ErrBadAttributeValue", "invalid value"
	}
	return "Reason(" + strconv.Itoa(int(r)) + ")", "invalid event"
}

// Error returns a short description of the reason.
func (r Reason) Error() string {
	_, text := r.describe()
	return text
}

// Name returns the Go name of the reason ("ErrMissingAttribute"), as used in
// the conformance corpus.
func (r Reason) Name() string {
	name, _ := r.describe()
	return name
}

// ReasonByName returns the reason whose Go name is name ("ErrBadJSON").
func ReasonByName(name string) (Reason, bool) {
	for r := Reason(1); r <= lastReason; r++ {
		if r.Name() == name {
			return r, true
		}
	}
	return 0, false
}

// InvalidError says why a request does not carry a valid CloudEvent.
type InvalidError struct {
	// Attribute names the faulty attribute as it appears on the wire: "ce-type"
	// for a binary-mode header, "type" for a JSON member; "" for the whole body.
	Attribute string
	// Reason is the kind of fault.
	Reason Reason
	// Detail is a fixed phrase refining Reason ("invalid UTF-8"); may be "".
	Detail string
	// Index is the event's position in a batch, or -1 outside a batch.
	Index int
}

// Error reads like "missing source" or "ce-type: invalid percent-encoding".
// It never contains payload data beyond a shortened attribute name.
func (e *InvalidError) Error() string {
	var b []byte
	if e.Index >= 0 {
		b = append(b, "event "...)
		b = strconv.AppendInt(b, int64(e.Index), 10)
		b = append(b, ": "...)
	}
	switch {
	case e.Reason == ErrMissingAttribute && e.Attribute != "":
		b = append(b, "missing "...)
		b = append(b, shownName(e.Attribute)...)
		return string(b)
	case e.Attribute != "":
		b = append(b, shownName(e.Attribute)...)
		b = append(b, ": "...)
	}
	if e.Detail != "" {
		b = append(b, e.Detail...)
	} else {
		b = append(b, e.Reason.Error()...)
	}
	return string(b)
}

// Unwrap returns the Reason, so that errors.Is(err, ErrBadJSON) works.
func (e *InvalidError) Unwrap() error { return e.Reason }

// invalid builds an *InvalidError outside a batch.
func invalid(attribute string, reason Reason, detail string) *InvalidError {
	return &InvalidError{Attribute: attribute, Reason: reason, Detail: detail, Index: -1}
}

// maxShownName bounds how much of a client-chosen name an error repeats.
const maxShownName = 40

// shownName makes a client-chosen attribute name safe to repeat in an error:
// shortened, with anything but printable ASCII replaced by '?'.
func shownName(name string) string {
	clean := len(name) <= maxShownName
	for i := 0; clean && i < len(name); i++ {
		clean = name[i] > 0x20 && name[i] < 0x7f
	}
	if clean {
		return name
	}
	n := min(len(name), maxShownName)
	b := make([]byte, 0, n+3)
	for i := range n {
		c := name[i]
		if c <= 0x20 || c >= 0x7f {
			c = '?'
		}
		b = append(b, c)
	}
	if len(name) > maxShownName {
		b = append(b, "..."...)
	}
	return string(b)
}
