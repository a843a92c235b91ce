package filters_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/eventroute/eventroute/filters"
	"github.com/eventroute/eventroute/filters/cloudevent"
	"github.com/eventroute/eventroute/filters/event"
)

// corpusDir is the conformance corpus shared by filters and filters/cloudevent.
const corpusDir = "../testdata/corpus"

// defaultRecognizeConfig is the config of recognize cases that give none.
const defaultRecognizeConfig = `{"subscribers":{"s":{"cluster":"s"}},"mirrors":[{"name":"all","match":[],"to":["s"]}],` +
	`"recognize":{"cloudevents":{"binary":true,"structured":true,"batch":true}}}`

// configErrorKinds maps the corpus spelling of an error kind to its value.
var configErrorKinds = map[string]error{
	"ErrBadJSON":           filters.ErrBadJSON,
	"ErrDuplicateKey":      filters.ErrDuplicateKey,
	"ErrUnknownField":      filters.ErrUnknownField,
	"ErrWrongType":         filters.ErrWrongType,
	"ErrMissing":           filters.ErrMissing,
	"ErrUnknownSubscriber": filters.ErrUnknownSubscriber,
	"ErrEmptyFilter":       filters.ErrEmptyFilter,
	"ErrBadGJSONPath":      filters.ErrBadGJSONPath,
	"ErrBadDuration":       filters.ErrBadDuration,
	"ErrDuplicateName":     filters.ErrDuplicateName,
	"ErrOutOfRange":        filters.ErrOutOfRange,
	"ErrBadValue":          filters.ErrBadValue,
	"ErrBadAttributeName":  filters.ErrBadAttributeName,
}

// corpusEvent is an event as the corpus writes it.
type corpusEvent struct {
	Attributes map[string]string `json:"attributes"`
	DataKind   string            `json:"dataKind"`
	Data       *string           `json:"data"`
	DataBase64 *string           `json:"dataBase64"`
}

type corpusCase struct {
	Name       string          `json:"name"`
	Config     json.RawMessage `json:"config"`
	ConfigText *string         `json:"configText"`
	Headers    [][2]string     `json:"headers"`
	Body       *string         `json:"body"`
	BodyBase64 *string         `json:"bodyBase64"`
	Event      *corpusEvent    `json:"event"`
	Expect     struct {
		// recognize
		Mode   string          `json:"mode"`
		Events []corpusEvent   `json:"events"`
		Error  json.RawMessage `json:"error"`
		// match
		Route            json.RawMessage `json:"route"`
		Mirrors          *[]string       `json:"mirrors"`
		PublisherAllowed map[string]bool `json:"publisherAllowed"`
		// config
		OK *bool `json:"ok"`
	} `json:"expect"`
}

// TestCorpus runs every case of testdata/corpus/{recognize,match,config}.
func TestCorpus(t *testing.T) {
	total := 0
	for _, kind := range []string{"recognize", "match", "config"} {
		files, err := filepath.Glob(filepath.Join(corpusDir, kind, "*.json"))
		if err != nil {
			t.Fatal(err)
		}
		for _, file := range files {
			raw, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			dec := json.NewDecoder(strings.NewReader(string(raw)))
			dec.DisallowUnknownFields()
			var cases []corpusCase
			if err := dec.Decode(&cases); err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			base := strings.TrimSuffix(filepath.Base(file), ".json")
			for _, c := range cases {
				total++
				t.Run(kind+"/"+base+"/"+c.Name, func(t *testing.T) {
					t.Parallel()
					switch kind {
					case "recognize":
						runRecognizeCase(t, &c)
					case "match":
						runMatchCase(t, &c)
					case "config":
						runConfigCase(t, &c)
					}
				})
			}
		}
	}
	if total == 0 {
		t.Fatal("no corpus cases found")
	}
}

func compileCase(t *testing.T, c *corpusCase, fallback string) *filters.Router {
	t.Helper()
	cfg := []byte(c.Config)
	if len(cfg) == 0 {
		cfg = []byte(fallback)
	}
	r, err := filters.Compile(cfg)
	if err != nil {
		t.Fatalf("config does not compile: %v", err)
	}
	return r
}

func decodeBody(t *testing.T, text, b64 *string) []byte {
	t.Helper()
	switch {
	case text != nil:
		return []byte(*text)
	case b64 != nil:
		b, err := base64.StdEncoding.DecodeString(*b64)
		if err != nil {
			t.Fatalf("bad base64 in case: %v", err)
		}
		return b
	}
	return nil
}

func runRecognizeCase(t *testing.T, c *corpusCase) {
	r := compileCase(t, c, defaultRecognizeConfig)
	cl := r.Classify(c.Headers)
	if got := cl.Mode.String(); got != c.Expect.Mode {
		t.Fatalf("mode = %s, want %s", got, c.Expect.Mode)
	}
	if cl.Mode == event.ModeNone {
		return
	}
	var b filters.Batch
	err := r.Recognize(cl, c.Headers, decodeBody(t, c.Body, c.BodyBase64), &b)
	if len(c.Expect.Error) > 0 {
		var name string
		if err := json.Unmarshal(c.Expect.Error, &name); err != nil {
			t.Fatalf("recognize expect.error must be a reason name: %v", err)
		}
		reason, ok := cloudevent.ReasonByName(name)
		if !ok {
			t.Fatalf("unknown reason %q in case", name)
		}
		if !errors.Is(err, reason) {
			t.Fatalf("error = %v, want kind %s", err, name)
		}
		return
	}
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
	if len(b.Events) != len(c.Expect.Events) {
		t.Fatalf("got %d events, want %d", len(b.Events), len(c.Expect.Events))
	}
	for i := range b.Events {
		checkEvent(t, i, &b.Events[i], &c.Expect.Events[i])
	}
}

// attributesOf lists every present attribute of ev.
func attributesOf(ev *event.Event) map[string]string {
	m := map[string]string{}
	for name, v := range map[string]string{"specversion": ev.SpecVersion, "id": ev.ID, "source": ev.Source,
		"type": ev.Type, "subject": ev.Subject, "time": ev.Time, "datacontenttype": ev.DataContentType,
		"dataschema": ev.DataSchema} {
		if v != "" {
			m[name] = v
		}
	}
	for _, x := range ev.Extensions {
		m[x.Name] = x.Value
	}
	return m
}

var dataKinds = map[string]event.DataKind{"none": event.DataNone, "json": event.DataJSON,
	"text": event.DataText, "binary": event.DataBinary}

func checkEvent(t *testing.T, i int, got *event.Event, want *corpusEvent) {
	t.Helper()
	if a := attributesOf(got); !reflect.DeepEqual(a, want.Attributes) {
		t.Errorf("event %d attributes = %v, want %v", i, a, want.Attributes)
	}
	if want.DataKind != "" {
		k, ok := dataKinds[want.DataKind]
		if !ok {
			t.Fatalf("unknown dataKind %q in case", want.DataKind)
		}
		if got.DataKind != k {
			t.Errorf("event %d dataKind = %d, want %s", i, got.DataKind, want.DataKind)
		}
	}
	if want.Data != nil || want.DataBase64 != nil {
		if wantData := decodeBody(t, want.Data, want.DataBase64); string(got.Data) != string(wantData) {
			t.Errorf("event %d data = %q, want %q", i, got.Data, wantData)
		}
	}
}

// eventOf builds the event a match case describes.
func eventOf(t *testing.T, ce *corpusEvent) *event.Event {
	t.Helper()
	ev := &event.Event{}
	for name, v := range ce.Attributes {
		ev.SetAttribute(name, v)
	}
	if ce.DataKind != "" {
		k, ok := dataKinds[ce.DataKind]
		if !ok {
			t.Fatalf("unknown dataKind %q in case", ce.DataKind)
		}
		ev.DataKind = k
	}
	ev.Data = decodeBody(t, ce.Data, ce.DataBase64)
	return ev
}

func runMatchCase(t *testing.T, c *corpusCase) {
	if c.Event == nil {
		t.Fatal("match case without event")
	}
	r := compileCase(t, c, "")
	cfg := r.Config()
	ev := eventOf(t, c.Event)

	if len(c.Expect.Route) > 0 {
		var want *string
		if err := json.Unmarshal(c.Expect.Route, &want); err != nil {
			t.Fatalf("expect.route must be a name or null: %v", err)
		}
		got := r.Route(ev)
		switch {
		case want == nil && got >= 0:
			t.Errorf("route = %s, want none", cfg.Routes[got].Name)
		case want != nil && got < 0:
			t.Errorf("route = none, want %s", *want)
		case want != nil && cfg.Routes[got].Name != *want:
			t.Errorf("route = %s, want %s", cfg.Routes[got].Name, *want)
		}
	}
	if c.Expect.Mirrors != nil {
		got := []string{}
		for _, i := range r.Mirrors(ev, nil) {
			got = append(got, cfg.Mirrors[i].Name)
		}
		if !reflect.DeepEqual(got, *c.Expect.Mirrors) {
			t.Errorf("mirrors = %v, want %v", got, *c.Expect.Mirrors)
		}
	}
	for principal, want := range c.Expect.PublisherAllowed {
		if got := r.PublisherAllowed(ev, principal); got != want {
			t.Errorf("PublisherAllowed(%q) = %v, want %v", principal, got, want)
		}
	}
}

func runConfigCase(t *testing.T, c *corpusCase) {
	cfg := []byte(c.Config)
	if c.ConfigText != nil {
		cfg = []byte(*c.ConfigText)
	}
	_, err := filters.Compile(cfg)
	if c.Expect.OK != nil && *c.Expect.OK {
		if err != nil {
			t.Fatalf("config rejected: %v", err)
		}
		return
	}
	var want struct {
		Kind string `json:"kind"`
		Path string `json:"path"`
	}
	if err := json.Unmarshal(c.Expect.Error, &want); err != nil {
		t.Fatalf("expect.error must be {kind, path}: %v", err)
	}
	kind, ok := configErrorKinds[want.Kind]
	if !ok {
		t.Fatalf("unknown error kind %q in case", want.Kind)
	}
	if err == nil {
		t.Fatalf("config accepted, want %s at %q", want.Kind, want.Path)
	}
	if !errors.Is(err, kind) {
		t.Errorf("error %q is not %s", err, want.Kind)
	}
	var ce *filters.ConfigError
	if !errors.As(err, &ce) {
		t.Fatalf("error %q is not a *ConfigError", err)
	}
	if ce.Path != want.Path {
		t.Errorf("error path = %q, want %q (error %q)", ce.Path, want.Path, err)
	}
}

// TestCorpusCoversEveryConfigErrorKind keeps the config corpus complete.
func TestCorpusCoversEveryConfigErrorKind(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(corpusDir, "config", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var cases []struct {
			Expect struct {
				Error struct {
					Kind string `json:"kind"`
				} `json:"error"`
			} `json:"expect"`
		}
		if err := json.Unmarshal(raw, &cases); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		for _, c := range cases {
			seen[c.Expect.Error.Kind] = true
		}
	}
	for name := range configErrorKinds {
		if !seen[name] {
			t.Errorf("no config case expects %s", name)
		}
	}
}
