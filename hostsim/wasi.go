package hostsim

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"sort"
	"strings"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/sys"
)

// WASI errno values used by Envoy's answers (HOSTABI §1.5).
const (
	errnoSuccess = 0
	errnoBadf    = 8
	errnoInval   = 28
	errnoNoent   = 44
	errnoNosys   = 52
	errnoNotsup  = 58
)

// maxRandomBytes is Envoy's random_get limit (limits.h).
const maxRandomBytes = 64 << 10

// pollLimit bounds consecutive poll_oneoff calls within one guest call: a guest sleeping under a clock that
// does not move would otherwise spin forever.
const pollLimit = 1_000_000

type wasiFunc struct {
	params, results []api.ValueType
	fn              func(ctx context.Context, v *vm, p []uint64) uint32
}

// wasiErr returns a handler answering errno e.
func wasiErr(e uint32) func(context.Context, *vm, []uint64) uint32 {
	return func(context.Context, *vm, []uint64) uint32 { return e }
}

func sig(ps ...api.ValueType) []api.ValueType { return ps }

// wasiSignatures is all of wasi_snapshot_preview1 with Envoy's answers (cpp-host exports.cc after PR #533; the
// poll_oneoff answer depends on PluginConfig.EnvoyVersion).
var wasiSignatures = map[string]wasiFunc{
	"args_get":                {sig(i32, i32), sig(i32), wasiErr(errnoSuccess)},
	"args_sizes_get":          {sig(i32, i32), sig(i32), wasiArgsSizes},
	"environ_get":             {sig(i32, i32), sig(i32), wasiEnvironGet},
	"environ_sizes_get":       {sig(i32, i32), sig(i32), wasiEnvironSizes},
	"clock_res_get":           {sig(i32, i32), sig(i32), wasiClockRes},
	"clock_time_get":          {sig(i32, i64, i32), sig(i32), wasiClockTime},
	"fd_advise":               {sig(i32, i64, i64, i32), sig(i32), wasiErr(errnoNotsup)},
	"fd_allocate":             {sig(i32, i64, i64), sig(i32), wasiErr(errnoNotsup)},
	"fd_close":                {sig(i32), sig(i32), wasiErr(errnoSuccess)},
	"fd_datasync":             {sig(i32), sig(i32), wasiErr(errnoNotsup)},
	"fd_fdstat_get":           {sig(i32, i32), sig(i32), wasiFdstatGet},
	"fd_fdstat_set_flags":     {sig(i32, i32), sig(i32), wasiErr(errnoNosys)},
	"fd_fdstat_set_rights":    {sig(i32, i64, i64), sig(i32), wasiErr(errnoNotsup)},
	"fd_filestat_get":         {sig(i32, i32), sig(i32), wasiErr(errnoBadf)},
	"fd_filestat_set_size":    {sig(i32, i64), sig(i32), wasiErr(errnoNotsup)},
	"fd_filestat_set_times":   {sig(i32, i64, i64, i32), sig(i32), wasiErr(errnoNotsup)},
	"fd_pread":                {sig(i32, i32, i32, i64, i32), sig(i32), wasiErr(errnoNosys)},
	"fd_prestat_get":          {sig(i32, i32), sig(i32), wasiErr(errnoBadf)},
	"fd_prestat_dir_name":     {sig(i32, i32, i32), sig(i32), wasiErr(errnoNosys)},
	"fd_pwrite":               {sig(i32, i32, i32, i64, i32), sig(i32), wasiPwrite},
	"fd_read":                 {sig(i32, i32, i32, i32), sig(i32), wasiErr(errnoNosys)},
	"fd_readdir":              {sig(i32, i32, i32, i64, i32), sig(i32), wasiErr(errnoNotsup)},
	"fd_renumber":             {sig(i32, i32), sig(i32), wasiErr(errnoNotsup)},
	"fd_seek":                 {sig(i32, i64, i32, i32), sig(i32), wasiErr(errnoSuccess)},
	"fd_sync":                 {sig(i32), sig(i32), wasiErr(errnoNotsup)},
	"fd_tell":                 {sig(i32, i32), sig(i32), wasiErr(errnoNotsup)},
	"fd_write":                {sig(i32, i32, i32, i32), sig(i32), wasiFdWrite},
	"path_create_directory":   {sig(i32, i32, i32), sig(i32), wasiErr(errnoNotsup)},
	"path_filestat_get":       {sig(i32, i32, i32, i32, i32), sig(i32), wasiErr(errnoNotsup)},
	"path_filestat_set_times": {sig(i32, i32, i32, i32, i64, i64, i32), sig(i32), wasiErr(errnoNotsup)},
	"path_link":               {sig(i32, i32, i32, i32, i32, i32, i32), sig(i32), wasiErr(errnoNotsup)},
	"path_open":               {sig(i32, i32, i32, i32, i32, i64, i64, i32, i32), sig(i32), wasiErr(errnoNoent)},
	"path_readlink":           {sig(i32, i32, i32, i32, i32, i32), sig(i32), wasiErr(errnoNotsup)},
	"path_remove_directory":   {sig(i32, i32, i32), sig(i32), wasiErr(errnoNotsup)},
	"path_rename":             {sig(i32, i32, i32, i32, i32, i32), sig(i32), wasiErr(errnoNotsup)},
	"path_symlink":            {sig(i32, i32, i32, i32, i32), sig(i32), wasiErr(errnoNotsup)},
	"path_unlink_file":        {sig(i32, i32, i32), sig(i32), wasiErr(errnoNotsup)},
	"poll_oneoff":             {sig(i32, i32, i32, i32), sig(i32), wasiPollOneoff},
	"proc_exit":               {sig(i32), nil, nil},
	"proc_raise":              {sig(i32), sig(i32), wasiErr(errnoNotsup)},
	"sched_yield":             {nil, sig(i32), wasiErr(errnoSuccess)},
	"random_get":              {sig(i32, i32), sig(i32), wasiRandom},
	"sock_accept":             {sig(i32, i32, i32), sig(i32), wasiErr(errnoNotsup)},
	"sock_recv":               {sig(i32, i32, i32, i32, i32, i32), sig(i32), wasiErr(errnoNotsup)},
	"sock_send":               {sig(i32, i32, i32, i32, i32), sig(i32), wasiErr(errnoNotsup)},
	"sock_shutdown":           {sig(i32, i32), sig(i32), wasiErr(errnoNotsup)},
}

// instantiateWASI registers Envoy's WASI under the given module name.
func instantiateWASI(ctx context.Context, rt wazero.Runtime, name string) error {
	b := rt.NewHostModuleBuilder(name)
	names := make([]string, 0, len(wasiSignatures))
	for n := range wasiSignatures {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		f := wasiSignatures[n]
		var gf api.GoModuleFunc
		if n == "proc_exit" {
			gf = wasiProcExit
		} else {
			fn := f.fn
			gf = func(ctx context.Context, _ api.Module, stack []uint64) {
				v := vmFrom(ctx)
				if v == nil {
					stack[0] = errnoNosys
					return
				}
				stack[0] = uint64(fn(ctx, v, stack))
			}
		}
		b.NewFunctionBuilder().WithGoModuleFunction(gf, f.params, f.results).Export(n)
	}
	_, err := b.Instantiate(ctx)
	return err
}

// wasiProcExit logs as Envoy does, then ends the guest call: Envoy returns to the guest, which traps right
// after; ending the call here gives the same result (a failed VM) without running the guest's fatal path.
func wasiProcExit(ctx context.Context, _ api.Module, stack []uint64) {
	code := uint32(stack[0])
	if v := vmFrom(ctx); v != nil {
		v.host.log(v.index, LogError, fmt.Sprintf("wasi proc_exit(%d) called", code))
	}
	panic(sys.NewExitError(code))
}

func wasiArgsSizes(_ context.Context, v *vm, p []uint64) uint32 {
	if !v.mem.WriteUint32Le(u32(p[0]), 0) || !v.mem.WriteUint32Le(u32(p[1]), 0) {
		return errnoInval
	}
	return errnoSuccess
}

func wasiEnvironSizes(_ context.Context, v *vm, p []uint64) uint32 {
	env := v.host.environ
	size := 0
	for _, e := range env {
		size += len(e) + 1
	}
	if !v.mem.WriteUint32Le(u32(p[0]), uint32(len(env))) || !v.mem.WriteUint32Le(u32(p[1]), uint32(size)) {
		return errnoInval
	}
	return errnoSuccess
}

func wasiEnvironGet(_ context.Context, v *vm, p []uint64) uint32 {
	ptrs, buf := u32(p[0]), u32(p[1])
	for i, e := range v.host.environ {
		if !v.mem.WriteUint32Le(ptrs+4*uint32(i), buf) || !v.mem.WriteString(buf, e) || !v.mem.WriteByte(buf+uint32(len(e)), 0) {
			return errnoInval
		}
		buf += uint32(len(e)) + 1
	}
	return errnoSuccess
}

func wasiClockRes(_ context.Context, v *vm, p []uint64) uint32 {
	if u32(p[0]) > 1 {
		return errnoNotsup
	}
	if !v.mem.WriteUint64Le(u32(p[1]), 1) {
		return errnoInval
	}
	return errnoSuccess
}

func wasiClockTime(_ context.Context, v *vm, p []uint64) uint32 {
	var t uint64
	switch u32(p[0]) {
	case 0:
		t = uint64(v.host.clock.Now().UnixNano())
	case 1:
		t = uint64(v.host.clock.Nanotime())
	default:
		return errnoNotsup
	}
	if !v.mem.WriteUint64Le(u32(p[2]), t) {
		return errnoInval
	}
	return errnoSuccess
}

func wasiFdstatGet(_ context.Context, v *vm, p []uint64) uint32 {
	fd := u32(p[0])
	if fd != 1 && fd != 2 {
		return errnoBadf
	}
	// fdstat: filetype u8, pad, flags u16, pad, rights_base u64 @8, rights_inheriting u64 @16 (24 bytes).
	b, ok := v.mem.Read(u32(p[1]), 24)
	if !ok {
		return errnoInval
	}
	clear(b)
	binary.LittleEndian.PutUint64(b[8:], 64) // FD_WRITE
	return errnoSuccess
}

// writeIOVecs logs the bytes of an iovec array written to fd 1 (info) or 2 (error), one trailing newline
// stripped, as Envoy does.
func writeIOVecs(v *vm, fd, iovs, count, nOut uint32) uint32 {
	if fd != 1 && fd != 2 {
		return errnoBadf
	}
	var sb strings.Builder
	for i := uint32(0); i < count; i++ {
		ptr, ok1 := v.mem.ReadUint32Le(iovs + 8*i)
		n, ok2 := v.mem.ReadUint32Le(iovs + 8*i + 4)
		b, ok3 := v.read(ptr, n)
		if !ok1 || !ok2 || !ok3 {
			return errnoInval
		}
		sb.Write(b)
	}
	written := sb.Len()
	msg := strings.TrimSuffix(sb.String(), "\n")
	level := LogInfo
	if fd == 2 {
		level = LogError
	}
	v.host.log(v.index, level, msg)
	if !v.mem.WriteUint32Le(nOut, uint32(written)) {
		return errnoInval
	}
	return errnoSuccess
}

func wasiFdWrite(_ context.Context, v *vm, p []uint64) uint32 {
	return writeIOVecs(v, u32(p[0]), u32(p[1]), u32(p[2]), u32(p[3]))
}

func wasiPwrite(_ context.Context, v *vm, p []uint64) uint32 {
	return writeIOVecs(v, u32(p[0]), u32(p[1]), u32(p[2]), u32(p[4]))
}

func wasiRandom(_ context.Context, v *vm, p []uint64) uint32 {
	n := u32(p[1])
	if n > maxRandomBytes {
		return errnoInval
	}
	b, ok := v.read(u32(p[0]), n)
	if !ok {
		return errnoInval
	}
	_, _ = rand.Read(b)
	return errnoSuccess
}

// wasiPollOneoff answers as the emulated Envoy: ENOSYS on 1.33–1.38 (which makes Go throw "poll_oneoff
// failed"), otherwise zero events and success (cpp-host PR #533).
func wasiPollOneoff(_ context.Context, v *vm, p []uint64) uint32 {
	v.host.polls.Add(1)
	if v.host.pollENOSYS {
		return errnoNosys
	}
	v.polls++
	if v.polls > pollLimit {
		panic(guestFault{fmt.Errorf("guest called poll_oneoff %d times in one callback (sleeping while the clock does not move?)", pollLimit)})
	}
	if !v.mem.WriteUint32Le(u32(p[3]), 0) {
		return errnoInval
	}
	return errnoSuccess
}
