package cloudevent

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eventroute/eventroute/filters/event"
)

// recognizeDir holds the recognize cases of the shared conformance corpus.
// The filters package runs them through its Router; this runner runs them
// through this package's API alone, so that a recognition fault shows here.
const recognizeDir = "../../testdata/corpus/recognize"

type recognizeCase struct {
	Name   string `json:"name"`
	Config struct {
		Limits struct {
			MaxBatchEvents int `json:"maxBatchEvents"`
		} `json:"limits"`
	} `json:"config"`
	Headers    [][2]string `json:"headers"`
	Body       *string     `json:"body"`
	BodyBase64 *string     `json:"bodyBase64"`
	Expect     struct {
		Mode   string `json:"mode"`
		Error  string `json:"error"`
		Events []struct {
			Attributes map[string]string `json:"attributes"`
			DataKind   string            `json:"dataKind"`
			Data       *string           `json:"data"`
			DataBase64 *string           `json:"dataBase64"`
		} `json:"events"`
	} `json:"expect"`
}

func TestRecognizeCorpus(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(recognizeDir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus files in %s: %v", recognizeDir, err)
	}
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var cases []recognizeCase
		if err := json.Unmarshal(raw, &cases); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		t.Run(strings.TrimSuffix(filepath.Base(file), ".json"), func(t *testing.T) {
			for _, c := range cases {
				t.Run(c.Name, func(t *testing.T) { runRecognizeCase(t, &c) })
			}
		})
	}
}

func runRecognizeCase(t *testing.T, c *recognizeCase) {
	mode := DetectMode(c.Headers)
	if mode.String() != c.Expect.Mode {
		t.Fatalf("mode = %v, want %s", mode, c.Expect.Mode)
	}
	body := corpusBytes(t, c.Body, c.BodyBase64)
	maxEvents := c.Config.Limits.MaxBatchEvents
	if maxEvents == 0 {
		maxEvents = 1000
	}
	var events []event.Event
	var err error
	switch mode {
	case event.ModeNone:
		return
	case event.ModeBinary:
		events = make([]event.Event, 1)
		err = ReadBinary(c.Headers, body, &events[0])
	case event.ModeStructured:
		events = make([]event.Event, 1)
		err = ReadStructured(body, &events[0])
	case event.ModeBatch:
		events, err = ReadBatch(body, maxEvents, nil)
	}
	if c.Expect.Error != "" {
		reason, ok := ReasonByName(c.Expect.Error)
		if !ok {
			t.Fatalf("unknown reason %q", c.Expect.Error)
		}
		if !errors.Is(err, reason) {
			t.Fatalf("error = %v, want %s", err, c.Expect.Error)
		}
		return
	}
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
	if len(events) != len(c.Expect.Events) {
		t.Fatalf("%d events, want %d", len(events), len(c.Expect.Events))
	}
	kinds := map[string]event.DataKind{"none": event.DataNone, "json": event.DataJSON, "text": event.DataText, "binary": event.DataBinary}
	for i, want := range c.Expect.Events {
		got := &events[i]
		if attrs := ourAttributes(got); !equalMaps(attrs, want.Attributes) {
			t.Errorf("event %d attributes\n%v\nwant\n%v", i, attrs, want.Attributes)
		}
		if kind, ok := kinds[want.DataKind]; !ok || kind != got.DataKind {
			t.Errorf("event %d data kind %v, want %q", i, got.DataKind, want.DataKind)
		}
		if want.Data != nil || want.DataBase64 != nil {
			if data := corpusBytes(t, want.Data, want.DataBase64); string(data) != string(got.Data) {
				t.Errorf("event %d data %q, want %q", i, got.Data, data)
			}
		}
	}
}

func corpusBytes(t *testing.T, text, b64 *string) []byte {
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
