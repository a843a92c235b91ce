package cloudevent

import "github.com/eventroute/eventroute/filters/event"

// coreAttr identifies a context attribute defined by the CloudEvents spec.
type coreAttr uint8

// The core attributes; attrNone stands for an extension.
const (
	attrNone coreAttr = iota
	attrSpecVersion
	attrID
	attrSource
	attrType
	attrSubject
	attrTime
	attrDataContentType
	attrDataSchema
)

// coreAttribute returns the core attribute called name, attrNone for an
// extension.
func coreAttribute(name string) coreAttr {
	switch name {
	case "specversion":
		return attrSpecVersion
	case "id":
		return attrID
	case "source":
		return attrSource
	case "type":
		return attrType
	case "subject":
		return attrSubject
	case "time":
		return attrTime
	case "datacontenttype":
		return attrDataContentType
	case "dataschema":
		return attrDataSchema
	}
	return attrNone
}

// name returns the attribute's name.
func (a coreAttr) name() string {
	switch a {
	case attrSpecVersion:
		return "specversion"
	case attrID:
		return "id"
	case attrSource:
		return "source"
	case attrType:
		return "type"
	case attrSubject:
		return "subject"
	case attrTime:
		return "time"
	case attrDataContentType:
		return "datacontenttype"
	case attrDataSchema:
		return "dataschema"
	}
	return ""
}

// coreField returns the event's field holding a core attribute.
func coreField(ev *event.Event, a coreAttr) *string {
	switch a {
	case attrSpecVersion:
		return &ev.SpecVersion
	case attrID:
		return &ev.ID
	case attrSource:
		return &ev.Source
	case attrType:
		return &ev.Type
	case attrSubject:
		return &ev.Subject
	case attrTime:
		return &ev.Time
	case attrDataContentType:
		return &ev.DataContentType
	default:
		return &ev.DataSchema
	}
}

// attributeSet records which core attributes were given, and which of them
// were given as JSON null (unset).
type attributeSet struct{ given, null uint16 }

func (s *attributeSet) has(a coreAttr) bool    { return s.given&(1<<a) != 0 }
func (s *attributeSet) isNull(a coreAttr) bool { return s.null&(1<<a) != 0 }
func (s *attributeSet) add(a coreAttr)         { s.given |= 1 << a }
func (s *attributeSet) addNull(a coreAttr)     { s.given |= 1 << a; s.null |= 1 << a }

// checkRequired checks the required attributes (specversion, id, source and
// type, in this order) and that no optional one is present but empty. prefix
// is "ce-" for binary mode (errors then name the header), "" for the JSON
// format.
func checkRequired(ev *event.Event, seen *attributeSet, prefix string) error {
	for a := attrSpecVersion; a <= attrType; a++ {
		value := *coreField(ev, a)
		switch {
		case value == "" && seen.has(a) && !seen.isNull(a):
			return invalid(prefix+a.name(), ErrEmptyAttribute, "")
		case value == "":
			return invalid(prefix+a.name(), ErrMissingAttribute, "")
		case a == attrSpecVersion && value != "1.0":
			return invalid(prefix+a.name(), ErrBadSpecVersion, "")
		}
	}
	for a := attrSubject; a <= attrDataSchema; a++ {
		if a == attrDataContentType && prefix != "" {
			continue // Content-Type; an empty one means no datacontenttype
		}
		if seen.has(a) && !seen.isNull(a) && *coreField(ev, a) == "" {
			return invalid(prefix+a.name(), ErrEmptyAttribute, "")
		}
	}
	return nil
}
