//go:build !unix

package wasmbuild

// lockFile is a no-op where flock is unavailable: concurrent callers may then
// build the same entry twice, but the atomic rename still keeps every cache
// entry complete.
func lockFile(string) (unlock func(), err error) {
	return func() {}, nil
}
