// Command hostsim runs proxy-wasm plugins in a local, Envoy-like mesh.
//
//	hostsim serve  -c mesh.yaml [--concurrency N] [--quiet] [--cache-dir DIR]
//	hostsim replay -c mesh.yaml -s scenario.yaml [--once] [--concurrency N] [--cache-dir DIR]
//	hostsim load   -url http://127.0.0.1:10000/ -rps 2000 -c 32 -d 60s [-body-file F] [-H 'k: v']... [-pid P]
//
// serve starts the mesh described by the mesh file and serves until SIGINT or
// SIGTERM; SIGHUP re-reads the plugin configurations (a configuration the
// plugin refuses leaves the old one serving, as in Envoy). replay starts the
// same mesh in-process, publishes a scenario's requests, prints where each
// went (a matrix of requests × clusters with delivery latencies), then keeps
// serving with copy-paste curl lines (or exits with --once). load is a
// bounded loopback load generator.
//
// Compiled plugins are kept on disk in --cache-dir (default build/wazero-cache when ./build exists, as in
// the repository root after make build; "" turns it off), so a restart skips the few seconds of compilation.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/eventroute/eventroute/hostsim/loadgen"
	"github.com/eventroute/eventroute/hostsim/mesh"
	"github.com/eventroute/eventroute/hostsim/proxy"
	"github.com/eventroute/eventroute/hostsim/replay"
)

const usage = `usage:
  hostsim serve  -c mesh.yaml [--concurrency N] [--quiet] [--cache-dir DIR]
  hostsim replay -c mesh.yaml -s scenario.yaml [--once] [--concurrency N] [--cache-dir DIR]
  hostsim load   -url URL -rps N -c CLIENTS -d DURATION [-body-file F] [-H 'k: v']... [-method M] [-pid P]
`

// errUsage marks command-line mistakes (exit code 2).
var errUsage = errors.New("usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdout)
	switch {
	case err == nil:
	case errors.Is(err, errUsage):
		fmt.Fprintf(os.Stderr, "hostsim: %v\n%s", err, usage)
		os.Exit(2)
	default:
		fmt.Fprintf(os.Stderr, "hostsim: %s\n", strings.Join(strings.Fields(err.Error()), " "))
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: missing command", errUsage)
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], out)
	case "replay":
		return replayCmd(ctx, args[1:], out)
	case "load":
		return load(ctx, args[1:], out)
	case "help", "-h", "--help":
		fmt.Fprint(out, usage)
		return nil
	}
	return fmt.Errorf("%w: unknown command %q", errUsage, args[0])
}

type meshFlags struct {
	file        string
	concurrency int
	quiet       bool
	cacheDir    string
}

// defaultCacheDir is build/wazero-cache when a build directory exists here (the repository root), else ""
// (no on-disk cache).
func defaultCacheDir() string {
	if fi, err := os.Stat("build"); err == nil && fi.IsDir() {
		return filepath.Join("build", "wazero-cache")
	}
	return ""
}

func (m *meshFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&m.file, "c", "", "mesh file (YAML)")
	fs.IntVar(&m.concurrency, "concurrency", 1, "worker VMs per plugin (Envoy's --concurrency)")
	fs.BoolVar(&m.quiet, "quiet", false, "do not print a line per request a recorder cluster receives")
	fs.StringVar(&m.cacheDir, "cache-dir", defaultCacheDir(), "on-disk cache of compiled plugins (\"\" = off)")
}

func (m *meshFlags) start(ctx context.Context, out, recorderOut io.Writer) (*proxy.Server, error) {
	if m.file == "" {
		return nil, fmt.Errorf("%w: -c mesh.yaml is required", errUsage)
	}
	if m.concurrency < 1 || m.concurrency > 64 {
		return nil, fmt.Errorf("%w: --concurrency %d: want 1..64", errUsage, m.concurrency)
	}
	mf, err := mesh.Load(m.file)
	if err != nil {
		return nil, err
	}
	return proxy.Start(ctx, proxy.Options{Mesh: mf, Concurrency: m.concurrency, Out: out, RecorderOut: recorderOut,
		QuietRecorders: m.quiet, CacheDir: m.cacheDir})
}

func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %s: %v", errUsage, fs.Name(), err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: %s: unexpected argument %q", errUsage, fs.Name(), fs.Arg(0))
	}
	return nil
}

func serve(ctx context.Context, args []string, out io.Writer) error {
	var m meshFlags
	fs := newFlagSet("serve")
	m.register(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	srv, err := m.start(ctx, out, out)
	if err != nil {
		return err
	}
	printServing(out, m.file, srv)
	printAdminCurls(out, srv)
	fmt.Fprintln(out, "serving until Ctrl-C (SIGINT) or SIGTERM; SIGHUP re-reads the plugin configurations")
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-ctx.Done():
			return shutdown(srv, out)
		case <-hup:
			reload(ctx, m.file, srv, out)
		}
	}
}

// reload pushes the mesh file's plugin configurations to the running plugins
// (Envoy semantics: a refused configuration leaves the old one serving).
func reload(ctx context.Context, file string, srv *proxy.Server, out io.Writer) {
	mf, err := mesh.Load(file)
	if err == nil {
		var applied []string
		applied, err = srv.Reconfigure(ctx, mf)
		for _, name := range applied {
			fmt.Fprintf(out, "hostsim: plugin %s: new configuration applied\n", name)
		}
		if len(applied) == 0 && err == nil {
			fmt.Fprintln(out, "hostsim: reload: no plugin configuration changed")
		}
	}
	if err != nil {
		fmt.Fprintf(out, "hostsim: reload: %s\n", strings.Join(strings.Fields(err.Error()), " "))
	}
}

func replayCmd(ctx context.Context, args []string, out io.Writer) error {
	var m meshFlags
	var scenarioFile string
	var once bool
	fs := newFlagSet("replay")
	m.register(fs)
	fs.StringVar(&scenarioFile, "s", "", "scenario file (YAML): the requests to publish")
	fs.BoolVar(&once, "once", false, "exit after the scenario instead of serving")
	if err := parse(fs, args); err != nil {
		return err
	}
	if scenarioFile == "" {
		return fmt.Errorf("%w: -s scenario.yaml is required", errUsage)
	}
	sc, err := replay.LoadScenario(scenarioFile)
	if err != nil {
		return err
	}
	// Recorder lines would bury the report: they start once the scenario is done.
	recorderOut := &gate{w: out}
	srv, err := m.start(ctx, out, recorderOut)
	if err != nil {
		return err
	}
	printServing(out, m.file, srv)
	total := 0
	for _, st := range sc.Steps {
		total += st.Repeat
	}
	fmt.Fprintf(out, "\npublishing the %d requests of %s (%d with repeats), one at a time\n", len(sc.Steps), scenarioFile, total)
	rep, err := replay.Play(ctx, replay.Target{Listen: srv.ListenAddr(), Clusters: srv.Clusters(), Settle: srv.Settle}, sc)
	if err != nil {
		shutdown(srv, io.Discard)
		return err
	}
	rep.Write(out)
	if once {
		return shutdown(srv, io.Discard)
	}
	fmt.Fprintf(out, "\nthe mesh keeps serving; try (Ctrl-C to stop):\n\n")
	for _, c := range replay.CurlLines(srv.ListenAddr(), sc) {
		fmt.Fprintf(out, "%s\n\n", c)
	}
	printAdminCurls(out, srv)
	fmt.Fprintln(out, "\nrequests the recorder clusters receive from now on:")
	recorderOut.open()
	<-ctx.Done()
	return shutdown(srv, out)
}

func printServing(out io.Writer, file string, srv *proxy.Server) {
	fmt.Fprintf(out, "hostsim: mesh %s: listening on %s", file, srv.ListenAddr())
	if a := srv.AdminAddr(); a != "" {
		fmt.Fprintf(out, ", admin on %s", a)
	}
	hosts := srv.Hosts()
	if len(hosts) > 0 {
		fmt.Fprintf(out, ", %d plugin(s) × %d worker VM(s)", len(hosts), hosts[0].Workers())
	}
	fmt.Fprintln(out)
}

func printAdminCurls(out io.Writer, srv *proxy.Server) {
	a := srv.AdminAddr()
	if a == "" {
		return
	}
	fmt.Fprintf(out, "# plugin metrics\ncurl -s http://%s/stats/prometheus\n", a)
	for _, c := range srv.Clusters() {
		if c.Recorder() != nil {
			fmt.Fprintf(out, "# what recorder %s received\ncurl -s http://%s/recorded/%s\n", c.Name(), a, c.Name())
		}
	}
}

func shutdown(srv *proxy.Server, out io.Writer) error {
	fmt.Fprintln(out, "hostsim: shutting down")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// headerFlags collects repeated -H 'name: value' flags.
type headerFlags [][2]string

// String implements flag.Value.
func (h *headerFlags) String() string { return fmt.Sprint(*h) }

// Set implements flag.Value.
func (h *headerFlags) Set(v string) error {
	k, val, ok := strings.Cut(v, ":")
	if !ok || strings.TrimSpace(k) == "" {
		return fmt.Errorf("header %q: want 'name: value'", v)
	}
	*h = append(*h, [2]string{strings.TrimSpace(k), strings.TrimSpace(val)})
	return nil
}

func load(ctx context.Context, args []string, out io.Writer) error {
	var o loadgen.Options
	var headers headerFlags
	var bodyFile string
	fs := newFlagSet("load")
	fs.StringVar(&o.URL, "url", "", "target URL (loopback only)")
	fs.IntVar(&o.RPS, "rps", 100, "requests per second")
	fs.IntVar(&o.Concurrency, "c", 32, "concurrent clients")
	fs.DurationVar(&o.Duration, "d", 10*time.Second, "duration")
	fs.StringVar(&bodyFile, "body-file", "", "request body file")
	fs.StringVar(&o.Method, "method", "", "method (default POST with a body, else GET)")
	fs.Var(&headers, "H", "request header 'name: value' (repeatable; 'Host: x' sets the authority)")
	fs.IntVar(&o.PID, "pid", 0, "process whose resident memory is sampled")
	if err := parse(fs, args); err != nil {
		return err
	}
	if bodyFile != "" {
		b, err := os.ReadFile(bodyFile)
		if err != nil {
			return fmt.Errorf("body file: %w", err)
		}
		o.Body = b
	}
	o.Headers = headers
	fmt.Fprintf(out, "load: %d req/s from %d clients for %s to %s\n", o.RPS, o.Concurrency, o.Duration, o.URL)
	res, err := loadgen.Run(ctx, o, out)
	if res != nil {
		res.Write(out)
	}
	if err != nil {
		return fmt.Errorf("load: %w", err)
	}
	if res.Errors > 0 {
		return fmt.Errorf("load: %d of %d requests failed", res.Errors, res.Sent)
	}
	return nil
}

// gate is a writer that drops everything until opened.
type gate struct {
	mu     sync.Mutex
	w      io.Writer
	opened bool
}

func (g *gate) open() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.opened = true
}

// Write implements io.Writer.
func (g *gate) Write(p []byte) (int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.opened {
		return len(p), nil
	}
	return g.w.Write(p)
}
