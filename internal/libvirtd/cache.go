package libvirtd

import (
	"bytes"
	"os"
	"path/filepath"
)

// libvirtd probes QEMU's capabilities when it starts (3 to 4 s of CPU under
// software emulation) and keeps the result in
// /var/cache/libvirt/qemu/capabilities. Every daemon has a cache of its
// own, so that none reads a file another is writing (libvirt rewrites it
// in place); a daemon with Daemons.SharedCache starts with the shared
// probes copied into its cache, and SaveCache, once it has stopped, copies
// its own back.
// libvirt checks an entry against the QEMU and libvirt binaries before
// using it, and probes again when they changed.

// SharedCacheDir is the cache that every daemon of this machine may share:
// kept across runs, so that QEMU is probed once per machine.
const SharedCacheDir = "/var/cache/ovnrun/libvirt"

// capsDir is where libvirt keeps the probes under a cache directory.
func capsDir(cache string) string { return filepath.Join(cache, "qemu", "capabilities") }

// capsEnd ends a complete probe file.
var capsEnd = []byte("</qemuCaps>\n")

// completeCaps lists the complete probe files in dir.
func completeCaps(dir string) map[string][]byte {
	files, _ := filepath.Glob(filepath.Join(capsDir(dir), "*.xml"))
	out := map[string][]byte{}
	for _, f := range files {
		if data, err := os.ReadFile(f); err == nil && bytes.HasSuffix(data, capsEnd) {
			out[filepath.Base(f)] = data
		}
	}
	return out
}

// seedCache copies the shared probes into the daemon's own cache and
// reports whether there were any.
func (d Daemons) seedCache() (bool, error) {
	shared := completeCaps(d.SharedCache)
	if len(shared) == 0 {
		return false, nil
	}
	dst := capsDir(d.cacheDir())
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return false, err
	}
	for name, data := range shared {
		if err := os.WriteFile(filepath.Join(dst, name), data, 0o600); err != nil {
			return false, err
		}
	}
	return true, nil
}

// SaveCache copies the daemon's probes of QEMU into the shared cache, each
// file written aside and renamed into place. Call it once the daemon has
// stopped (libvirtd probes when a call first needs QEMU, and writes in
// place). It does nothing without SharedCache, and gives up quietly: the
// shared cache only saves time.
func (d Daemons) SaveCache() {
	if d.SharedCache == "" {
		return
	}
	dst := capsDir(d.SharedCache)
	for name, data := range completeCaps(d.cacheDir()) {
		if os.MkdirAll(dst, 0o755) != nil {
			return
		}
		tmp, err := os.CreateTemp(dst, ".new-*")
		if err != nil {
			return
		}
		_, err = tmp.Write(data)
		if cerr := tmp.Close(); err == nil && cerr == nil {
			err = os.Rename(tmp.Name(), filepath.Join(dst, name))
		}
		if err != nil {
			os.Remove(tmp.Name())
		}
	}
}
