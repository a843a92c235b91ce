package loadgen_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eventroute/eventroute/hostsim/loadgen"
)

func TestRun_SendsAtTheRequestedRate(t *testing.T) {
	var got atomic.Int64
	var bodyOK atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		bodyOK.Store(string(b) == "evt" && r.Header.Get("ce-type") == "t" && r.Host == "svc.local")
		got.Add(1)
		w.WriteHeader(202)
	}))
	defer srv.Close()
	res, err := loadgen.Run(context.Background(), loadgen.Options{URL: srv.URL + "/e", RPS: 200, Concurrency: 4,
		Duration: 500 * time.Millisecond, Body: []byte("evt"), Headers: [][2]string{{"ce-type", "t"}, {"Host", "svc.local"}},
		PID: os.Getpid()}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if res.Sent != 100 || res.OK != 100 || got.Load() != 100 || !bodyOK.Load() {
		t.Errorf("sent %d ok %d server saw %d body ok %v", res.Sent, res.OK, got.Load(), bodyOK.Load())
	}
	if res.Elapsed < 450*time.Millisecond || len(res.RSS) < 2 || res.RSS[0] == 0 {
		t.Errorf("elapsed %s rss %v", res.Elapsed, res.RSS)
	}
}

func TestRun_RefusesOutsideBounds(t *testing.T) {
	for _, o := range []loadgen.Options{
		{URL: "http://192.0.2.1:80/", RPS: 1, Concurrency: 1, Duration: time.Second},
		{URL: "http://127.0.0.1:80/", RPS: loadgen.MaxRPS + 1, Concurrency: 1, Duration: time.Second},
		{URL: "http://127.0.0.1:80/", RPS: 1, Concurrency: 0, Duration: time.Second},
		{URL: "http://127.0.0.1:80/", RPS: 1, Concurrency: 1, Duration: time.Hour},
	} {
		if _, err := loadgen.Run(context.Background(), o, io.Discard); !errors.Is(err, loadgen.ErrBounds) {
			t.Errorf("%+v: err = %v", o, err)
		}
	}
}
