package virt

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path"
	"strings"
	"time"

	"github.com/digitalocean/go-libvirt"
	"libvirt.org/go/libvirtxml"

	"github.com/ovnrun/ovnrun/internal/remote"
)

// Files on the host. An image, kernel or initrd is an absolute path on the
// host (used where it is), an http(s) URL that the host downloads, or a
// file:// URL on this machine, uploaded with libvirt's volume upload. Both
// land once in the host's image directory (the libvirt storage pool
// "ovnrun") under a name derived from the source, so later runs, resumed
// or not, find them and fetch nothing. Each VM's disk is a qcow2 overlay
// of its image, created once as ovnrun-<domain>.qcow2; destroy removes it
// but keeps the shared images.

// Bounds of the file commands.
const (
	fetchTimeout = 60 * time.Minute
	fileTimeout  = 5 * time.Minute
)

// MissingImageError says that a VM's image, kernel or initrd cannot be had.
type MissingImageError struct {
	What, Source, Host, Why string
}

func (e *MissingImageError) Error() string {
	return fmt.Sprintf("%s %q: %s", e.What, e.Source, e.Why)
}

// storedName is the file name a fetched or uploaded source gets in the
// image directory: a hash of what identifies it, then its own base name.
func storedName(key, base string) string {
	sum := sha256.Sum256([]byte(key))
	return "ovnrun-img-" + hex.EncodeToString(sum[:6]) + "-" + safeName(base)
}

func safeName(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '-' || c == '_') {
			b[i] = '_'
		}
	}
	if len(b) == 0 || b[0] == '.' {
		return "_" + string(b)
	}
	return string(b)
}

// source returns the host path of an image, kernel or initrd, fetching or
// uploading it first if it is not there yet.
func (h *hostState) source(ctx context.Context, what, src string) (string, error) {
	if strings.HasPrefix(src, "/") {
		conn, err := h.conn(ctx)
		if err != nil {
			return "", err
		}
		r, err := conn.Run(ctx, remote.Argv("test", "-f", src).WithTimeout(fileTimeout))
		if err != nil {
			return "", err
		}
		if r.Status != 0 {
			return "", &MissingImageError{What: what, Source: src, Host: h.name, Why: "no such file on host " + h.name}
		}
		return src, nil
	}
	u, err := url.Parse(src)
	if err != nil {
		return "", err
	}
	if u.Scheme == "file" {
		return h.upload(ctx, what, src, u.Path)
	}
	return h.fetch(ctx, what, src, u)
}

// fetch has the host download an http(s) source, once.
func (h *hostState) fetch(ctx context.Context, what, src string, u *url.URL) (string, error) {
	dst := path.Join(h.cfg.ImageDir, storedName(src, path.Base(u.Path)))
	script := fmt.Sprintf(`set -e
dst=%s
if [ -s "$dst" ]; then echo present; exit 0; fi
mkdir -p %s
if command -v curl >/dev/null 2>&1; then
	curl -fsSL --retry 2 -o "$dst.part" %s
else
	wget -q -O "$dst.part" %s
fi
mv -f "$dst.part" "$dst"
echo fetched`, remote.Quote(dst), remote.Quote(h.cfg.ImageDir), remote.Quote(src), remote.Quote(src))
	t0 := time.Now()
	out, err := h.run(ctx, remote.Script(script).WithTimeout(fetchTimeout))
	var ee *remote.ExitError
	if errors.As(err, &ee) {
		why := firstLine(ee.Result.Stderr)
		if why == "" {
			why = fmt.Sprintf("exit status %d", ee.Result.Status)
		}
		return "", &MissingImageError{What: what, Source: src, Host: h.name, Why: "host " + h.name + " cannot download it: " + why}
	}
	if err != nil {
		return "", err
	}
	if strings.TrimSpace(out) == "fetched" {
		h.d.logf(h.name, "downloaded %s to %s (%s)", src, dst, time.Since(t0).Round(time.Millisecond))
		h.refreshPool(ctx)
	}
	return dst, nil
}

// upload copies a file of this machine into the host's storage pool, once.
// The volume is written under a temporary name and renamed when complete,
// so an interrupted upload is never mistaken for a finished one.
func (h *hostState) upload(ctx context.Context, what, src, local string) (string, error) {
	fi, err := os.Stat(local)
	if err != nil {
		return "", &MissingImageError{What: what, Source: src, Host: h.name, Why: "cannot read it on this machine: " + err.Error()}
	}
	if !fi.Mode().IsRegular() {
		return "", &MissingImageError{What: what, Source: src, Host: h.name, Why: "not a regular file"}
	}
	name := storedName(fmt.Sprintf("%s|%d|%d", local, fi.Size(), fi.ModTime().UnixNano()), path.Base(local))
	dst := path.Join(h.cfg.ImageDir, name)
	conn, err := h.conn(ctx)
	if err != nil {
		return "", err
	}
	if r, err := conn.Run(ctx, remote.Argv("test", "-s", dst).WithTimeout(fileTimeout)); err != nil {
		return "", err
	} else if r.Status == 0 {
		return dst, nil
	}
	pool, err := h.pool(ctx)
	if err != nil {
		return "", err
	}
	f, err := os.Open(local)
	if err != nil {
		return "", err
	}
	defer f.Close()
	t0 := time.Now()
	part := name + ".part"
	vol := libvirtxml.StorageVolume{Name: part,
		Capacity: &libvirtxml.StorageVolumeSize{Value: uint64(fi.Size()), Unit: "bytes"},
		Target:   &libvirtxml.StorageVolumeTarget{Format: &libvirtxml.StorageVolumeTargetFormat{Type: "raw"}}}
	volXML, err := vol.Marshal()
	if err != nil {
		return "", err
	}
	err = h.do(ctx, func(l *libvirt.Libvirt) error {
		if old, err := l.StorageVolLookupByName(pool, part); err == nil {
			if err := l.StorageVolDelete(old, 0); err != nil {
				return err
			}
		}
		v, err := l.StorageVolCreateXML(pool, volXML, 0)
		if err != nil {
			return err
		}
		return l.StorageVolUpload(v, f, 0, uint64(fi.Size()), 0)
	})
	if err != nil {
		return "", fmt.Errorf("upload %s to host %s: %w", local, h.name, err)
	}
	if _, err := h.run(ctx, remote.Argv("mv", "-f", dst+".part", dst).WithTimeout(fileTimeout)); err != nil {
		return "", err
	}
	h.refreshPool(ctx)
	h.d.logf(h.name, "uploaded %s to %s (%s)", local, dst, time.Since(t0).Round(time.Millisecond))
	return dst, nil
}

// pool returns the host's storage pool, defining and starting it (as a
// directory pool on ImageDir) when missing.
func (h *hostState) pool(ctx context.Context) (libvirt.StoragePool, error) {
	var pool libvirt.StoragePool
	if _, err := h.run(ctx, remote.Argv("mkdir", "-p", h.cfg.ImageDir).WithTimeout(fileTimeout)); err != nil {
		return pool, err
	}
	err := h.do(ctx, func(l *libvirt.Libvirt) error {
		var err error
		pool, err = l.StoragePoolLookupByName(h.cfg.PoolName)
		if isLibvirtErr(err, libvirt.ErrNoStoragePool) {
			p := libvirtxml.StoragePool{Type: "dir", Name: h.cfg.PoolName,
				Target: &libvirtxml.StoragePoolTarget{Path: h.cfg.ImageDir}}
			doc, err := p.Marshal()
			if err != nil {
				return err
			}
			if pool, err = l.StoragePoolDefineXML(doc, 0); err != nil {
				return err
			}
			if err := l.StoragePoolSetAutostart(pool, 1); err != nil {
				return err
			}
		} else if err != nil {
			return err
		}
		doc, err := l.StoragePoolGetXMLDesc(pool, 0)
		if err != nil {
			return err
		}
		var p libvirtxml.StoragePool
		if err := xml.Unmarshal([]byte(doc), &p); err != nil {
			return err
		}
		if p.Target == nil || path.Clean(p.Target.Path) != path.Clean(h.cfg.ImageDir) {
			return fmt.Errorf("storage pool %q exists with another directory than %s; remove it or set another pool name", h.cfg.PoolName, h.cfg.ImageDir)
		}
		if active, err := l.StoragePoolIsActive(pool); err != nil {
			return err
		} else if active == 0 {
			return l.StoragePoolCreate(pool, 0)
		}
		return nil
	})
	if err != nil {
		return pool, fmt.Errorf("storage pool %s on host %s: %w", h.cfg.PoolName, h.name, err)
	}
	h.mu.Lock()
	h.poolOK = true
	h.mu.Unlock()
	return pool, nil
}

// refreshPool makes libvirt list files written behind its back. Only
// `virsh vol-list` needs it, so a failure is only noted.
func (h *hostState) refreshPool(ctx context.Context) {
	h.mu.Lock()
	ok := h.poolOK
	h.mu.Unlock()
	if !ok {
		if _, err := h.pool(ctx); err != nil {
			h.d.logf(h.name, "note: %v", err)
			return
		}
	}
	err := h.do(ctx, func(l *libvirt.Libvirt) error {
		p, err := l.StoragePoolLookupByName(h.cfg.PoolName)
		if err != nil {
			return err
		}
		return l.StoragePoolRefresh(p, 0)
	})
	if err != nil {
		h.d.logf(h.name, "note: refresh storage pool %s: %v", h.cfg.PoolName, err)
	}
}

// diskPath is the per-VM disk of a domain.
func (h *hostState) diskPath(domain string) string {
	return path.Join(h.cfg.ImageDir, "ovnrun-"+domain+".qcow2")
}

// imageInfo is what qemu-img info says of an image.
type imageInfo struct {
	Format      string `json:"format"`
	VirtualSize int64  `json:"virtual-size"`
}

// createDisk creates a domain's disk once: a qcow2 overlay of base (grown
// to diskGiB if set), or a blank qcow2 of diskGiB when base is "".
func (h *hostState) createDisk(ctx context.Context, disk, base string, diskGiB int) error {
	conn, err := h.conn(ctx)
	if err != nil {
		return err
	}
	if r, err := conn.Run(ctx, remote.Argv("test", "-s", disk).WithTimeout(fileTimeout)); err != nil {
		return err
	} else if r.Status == 0 {
		return nil // made by an earlier, interrupted run
	}
	args := []string{"qemu-img", "create", "-q", "-f", "qcow2"}
	if base != "" {
		out, err := remote.Output(ctx, conn, remote.Argv("qemu-img", "info", "-U", "--output=json", base).WithTimeout(fileTimeout))
		if err != nil {
			return err
		}
		var info imageInfo
		if err := json.Unmarshal([]byte(out), &info); err != nil || info.Format == "" {
			return fmt.Errorf("qemu-img info %s: unreadable answer", base)
		}
		if diskGiB > 0 && int64(diskGiB)<<30 < info.VirtualSize {
			return fmt.Errorf("disk_gib %d is smaller than the image's own size (%.1f GiB)", diskGiB, float64(info.VirtualSize)/(1<<30))
		}
		args = append(args, "-F", info.Format, "-b", base)
	}
	args = append(args, disk+".part")
	if diskGiB > 0 {
		args = append(args, fmt.Sprintf("%dG", diskGiB))
	}
	if _, err := remote.Output(ctx, conn, remote.Argv(args...).WithTimeout(fileTimeout)); err != nil {
		return err
	}
	if _, err := remote.Output(ctx, conn, remote.Argv("mv", "-f", disk+".part", disk).WithTimeout(fileTimeout)); err != nil {
		return err
	}
	h.refreshPool(ctx)
	return nil
}

// removeDisk deletes a per-VM disk ovnrun created; it refuses any other
// path, whatever the metadata says.
func (h *hostState) removeDisk(ctx context.Context, disk string) error {
	if path.Dir(disk) != path.Clean(h.cfg.ImageDir) || !strings.HasPrefix(path.Base(disk), "ovnrun-") || strings.HasPrefix(path.Base(disk), "ovnrun-img-") {
		h.d.logf(h.name, "note: not removing %s: not a per-VM disk in %s", disk, h.cfg.ImageDir)
		return nil
	}
	if _, err := h.run(ctx, remote.Argv("rm", "-f", "--", disk, disk+".part").WithTimeout(fileTimeout)); err != nil {
		return err
	}
	h.refreshPool(ctx)
	return nil
}
