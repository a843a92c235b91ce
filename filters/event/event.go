// Package event defines the CloudEvents model shared by recognition,
// matching and encoding. It has no dependencies beyond the standard library.
package event

// Mode is how an event was carried on the HTTP request.
type Mode uint8

// The recognition modes of SPEC §3.2.
const (
	ModeNone       Mode = iota // not an event
	ModeBinary                 // ce-* headers, body is the data
	ModeStructured             // application/cloudevents+json body
	ModeBatch                  // application/cloudevents-batch+json array
	ModeJSON                   // plain JSON event read through a JSON profile
)

// String returns the mode's metric name (binary, structured, batch, json).
func (m Mode) String() string {
	switch m {
	case ModeBinary:
		return "binary"
	case ModeStructured:
		return "structured"
	case ModeBatch:
		return "batch"
	case ModeJSON:
		return "json"
	default:
		return "none"
	}
}

// DataKind says how Event.Data is to be read.
type DataKind uint8

// Data kinds, per the CloudEvents JSON format.
const (
	DataNone   DataKind = iota // the event has no data
	DataJSON                   // Data is a JSON value (object, array, number, string literal with quotes, ...)
	DataText                   // Data is the content of a string (non-JSON datacontenttype), already unquoted
	DataBinary                 // Data is raw bytes (data_base64 decoded, or a binary-mode non-JSON body)
)

// AttrKind is the JSON type an extension attribute had where the event was
// read, so that the JSON format can write it back with that type.
type AttrKind uint8

// Extension attribute kinds. The zero value is a string, the type of every
// attribute read from binary-mode headers (which carry no type) or through a
// JSON profile.
const (
	AttrString AttrKind = iota // a string (and every CloudEvents type written as a JSON string)
	AttrNumber                 // a JSON number (a CloudEvents Integer)
	AttrBool                   // a JSON boolean
)

// Attr is one extension attribute. Value is its canonical string form
// whatever its kind (a number's text, "true" or "false"): matching and
// binary-mode headers use Value alone, and Kind only decides how the JSON
// format writes it.
type Attr struct {
	Name  string
	Value string
	Kind  AttrKind
}

// Event is one CloudEvent. Optional context attributes are "" when absent;
// CloudEvents forbids empty values for them, so "" is unambiguous.
type Event struct {
	SpecVersion     string
	ID              string
	Source          string
	Type            string
	Subject         string
	Time            string
	DataContentType string
	DataSchema      string
	// Extensions in the order they were read. Names are lower-case.
	Extensions []Attr
	// Data and its kind. Data may alias the request body: copy before keeping it.
	Data     []byte
	DataKind DataKind
}

// Core identifies a context attribute defined by the CloudEvents spec, in
// the spec's order; CoreNone stands for an extension.
type Core uint8

// The core attributes.
const (
	CoreNone Core = iota
	CoreSpecVersion
	CoreID
	CoreSource
	CoreType
	CoreSubject
	CoreTime
	CoreDataContentType
	CoreDataSchema
)

// CoreAttribute returns the core attribute called name, CoreNone for an
// extension.
func CoreAttribute(name string) Core {
	// Dispatch on the length first: one comparison at most per name.
	switch len(name) {
	case len("id"):
		if name == "id" {
			return CoreID
		}
	case len("type"):
		switch name {
		case "type":
			return CoreType
		case "time":
			return CoreTime
		}
	case len("source"):
		if name == "source" {
			return CoreSource
		}
	case len("subject"):
		if name == "subject" {
			return CoreSubject
		}
	case len("dataschema"):
		if name == "dataschema" {
			return CoreDataSchema
		}
	case len("specversion"):
		if name == "specversion" {
			return CoreSpecVersion
		}
	case len("datacontenttype"):
		if name == "datacontenttype" {
			return CoreDataContentType
		}
	}
	return CoreNone
}

// Name returns the attribute's name ("" for CoreNone).
func (c Core) Name() string {
	switch c {
	case CoreSpecVersion:
		return "specversion"
	case CoreID:
		return "id"
	case CoreSource:
		return "source"
	case CoreType:
		return "type"
	case CoreSubject:
		return "subject"
	case CoreTime:
		return "time"
	case CoreDataContentType:
		return "datacontenttype"
	case CoreDataSchema:
		return "dataschema"
	}
	return ""
}

// Field returns the field holding core attribute c, nil for CoreNone.
func (e *Event) Field(c Core) *string {
	switch c {
	case CoreSpecVersion:
		return &e.SpecVersion
	case CoreID:
		return &e.ID
	case CoreSource:
		return &e.Source
	case CoreType:
		return &e.Type
	case CoreSubject:
		return &e.Subject
	case CoreTime:
		return &e.Time
	case CoreDataContentType:
		return &e.DataContentType
	case CoreDataSchema:
		return &e.DataSchema
	}
	return nil
}

// Attribute returns a context attribute (core or extension) by its name.
// The second result is false when the attribute is absent.
func (e *Event) Attribute(name string) (string, bool) {
	if f := e.Field(CoreAttribute(name)); f != nil {
		return *f, *f != ""
	}
	return e.Extension(name)
}

// Extension returns the value of extension name; ok is false when the event
// lacks it.
func (e *Event) Extension(name string) (string, bool) {
	for i := range e.Extensions {
		if e.Extensions[i].Name == name {
			return e.Extensions[i].Value, true
		}
	}
	return "", false
}

// SetAttribute sets a context attribute (core or extension) by its name. An
// extension is appended as a string (AttrString): the caller sets each name
// once.
func (e *Event) SetAttribute(name, value string) {
	if f := e.Field(CoreAttribute(name)); f != nil {
		*f = value
		return
	}
	e.Extensions = append(e.Extensions, Attr{Name: name, Value: value})
}

// Reset clears the event for reuse, keeping the Extensions capacity.
func (e *Event) Reset() {
	ext := e.Extensions[:0]
	*e = Event{Extensions: ext}
}
