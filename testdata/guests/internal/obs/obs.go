// Package obs holds the conventions the conformance guests share for making
// their observations visible to the host in a parseable way.
//
// Every observation is one info log line: an event word followed by
// space-separated key=value fields. Values that may contain spaces or arbitrary
// bytes are Go-quoted (strconv.Quote, i.e. the %q verb); numbers and tokens
// are bare. Host-call results are logged as err=<token> using Status.
package obs

import (
	"errors"
	"strings"

	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm/types"
)

// Status names the outcome of a host call as a stable token: ok, not_found,
// bad_argument, empty, cas_mismatch, internal_failure, unimplemented, or
// status_<N> for statuses the SDK does not name (e.g. status_6 for
// InvalidMemoryAccess), or "other:" followed by the error text with spaces
// replaced by '_' for errors that do not come from a host status.
func Status(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, types.ErrorStatusNotFound):
		return "not_found"
	case errors.Is(err, types.ErrorStatusBadArgument):
		return "bad_argument"
	case errors.Is(err, types.ErrorStatusEmpty):
		return "empty"
	case errors.Is(err, types.ErrorStatusCasMismatch):
		return "cas_mismatch"
	case errors.Is(err, types.ErrorInternalFailure):
		return "internal_failure"
	case errors.Is(err, types.ErrorUnimplemented):
		return "unimplemented"
	default:
		// The SDK reports statuses it does not name as "unknown status code: N".
		if code, ok := strings.CutPrefix(err.Error(), "unknown status code: "); ok {
			return "status_" + code
		}
		return "other:" + strings.ReplaceAll(err.Error(), " ", "_")
	}
}
