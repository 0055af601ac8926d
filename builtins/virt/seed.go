package virt

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"fmt"
	"path"
	"strings"

	"github.com/ovnrun/ovnrun/internal/remote"
)

// Files the driver checks or writes on the host for a VM besides its disk:
// the image's declared digest and the cloud-init seed.

// DigestError says that an image is not what sha256= declares.
type DigestError struct {
	Source, Got, Want string
	Removed           bool // the fetched or uploaded copy was removed
}

func (e *DigestError) Error() string {
	s := fmt.Sprintf("image %q: its sha256 is %s, but sha256= declares %s", e.Source, e.Got, e.Want)
	if e.Removed {
		s += "; the copy on the host is removed, so the next run fetches it again"
	}
	return s
}

// checkDigest compares the SHA-256 of the image at file (on the host) with
// the declared want, if any. A copy ovnrun fetched or uploaded that
// differs is removed, so that it is never used; a path the runbook names
// is left alone.
func (h *hostState) checkDigest(ctx context.Context, src, file, want string) error {
	if want == "" {
		return nil
	}
	out, err := h.run(ctx, remote.Argv("sha256sum", "--", file).WithTimeout(fetchTimeout))
	if err != nil {
		return fmt.Errorf("image %q: sha256sum on host %s: %w", src, h.name, err)
	}
	f := strings.Fields(out)
	if len(f) == 0 || len(f[0]) != 64 {
		return fmt.Errorf("image %q: sha256sum on host %s: unreadable answer %q", src, h.name, firstLine(out))
	}
	if got := strings.ToLower(f[0]); got != want {
		e := &DigestError{Source: src, Got: got, Want: want}
		if file != src && strings.HasPrefix(path.Base(file), "ovnrun-img-") {
			if _, err := h.run(ctx, remote.Argv("rm", "-f", "--", file).WithTimeout(fileTimeout)); err != nil {
				return fmt.Errorf("%v (and removing it failed: %w)", e, err)
			}
			e.Removed = true
		}
		return e
	}
	return nil
}

// seedPath is the cloud-init seed of a domain.
func (h *hostState) seedPath(domain string) string {
	return path.Join(h.cfg.ImageDir, "ovnrun-"+domain+"-seed.iso")
}

// writeSeed builds the VM's NoCloud seed and writes it to the host. The
// ISO is mostly zeros: gzipped and base64-encoded it is a short argument
// of one command, so no upload channel is needed.
func (h *hostState) writeSeed(ctx context.Context, a *Domain) (string, error) {
	iso, err := a.CloudInit.seedISO(a.Domain)
	if err != nil {
		return "", fmt.Errorf("cloud-init seed of %s: %w", a.Domain, err)
	}
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write(iso)
	if err := zw.Close(); err != nil {
		return "", err
	}
	dst := h.seedPath(a.Domain)
	script := fmt.Sprintf(`set -e
mkdir -p %s
echo %s | base64 -d | gzip -dc >%s
mv -f %s %s`, remote.Quote(h.cfg.ImageDir), base64.StdEncoding.EncodeToString(z.Bytes()),
		remote.Quote(dst+".part"), remote.Quote(dst+".part"), remote.Quote(dst))
	if _, err := h.run(ctx, remote.Script(script).WithTimeout(fileTimeout)); err != nil {
		return "", fmt.Errorf("write the cloud-init seed %s on host %s: %w", dst, h.name, err)
	}
	h.refreshPool(ctx)
	return dst, nil
}
