package virt

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/digitalocean/go-libvirt"
	"libvirt.org/go/libvirtxml"

	"github.com/ovnrun/ovnrun/engine"
	"github.com/ovnrun/ovnrun/interp"
)

// TestImageDigestAndSeed runs vm(image=, sha256=, cloud_init=) against
// libvirt's test driver with an image served over HTTP on loopback: a
// digest that differs is an error naming the image and both digests, the
// download is removed and no domain is defined; the right digest defines
// the domain with the seed ISO on a CD-ROM, and destroy removes the seed.
func TestImageDigestAndSeed(t *testing.T) {
	l := newLab(t, "test:///default")
	imgDir := t.TempDir()
	img := filepath.Join(imgDir, "cloud.qcow2")
	if out, err := exec.Command("qemu-img", "create", "-q", "-f", "qcow2", img, "16M").CombinedOutput(); err != nil {
		t.Fatalf("qemu-img: %v: %s", err, out)
	}
	data, err := os.ReadFile(img)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	good := hex.EncodeToString(sum[:])
	bad := strings.Repeat("0", 64)
	srv := httptest.NewServer(http.FileServer(http.Dir(imgDir)))
	defer srv.Close()
	vm := func(digest string) string {
		return fmt.Sprintf(`vm("c0", host = h0, image = %q, sha256 = %q, domain_type = "qemu", memory_mib = 128,
    cloud_init = {"user": "cloud", "packages": ["qemu-guest-agent"]})`, srv.URL+"/cloud.qcow2", digest)
	}

	_, err = run(t, l.driver(t), evaluate(t, vm(bad)))
	var de *DigestError
	want := fmt.Sprintf(`vm h0/c0 (lab.star:2:3): image %q: its sha256 is %s, but sha256= declares %s; the copy on the host is removed`,
		srv.URL+"/cloud.qcow2", good, bad)
	if !errors.As(err, &de) || !strings.Contains(err.Error(), want) {
		t.Errorf("wrong digest: %v\nwant %s", err, want)
	}
	if got := strings.Join(l.domains(t, "test:///default"), " "); got != "test:running:" {
		t.Errorf("domains after a wrong digest: %s", got)
	}
	if left, _ := filepath.Glob(filepath.Join(l.h.ImageDir, "ovnrun-img-*")); len(left) != 0 {
		t.Errorf("a download that failed its digest is kept: %v", left)
	}

	if _, err := run(t, l.driver(t), evaluate(t, vm(good))); err != nil {
		t.Fatalf("right digest: %v", err)
	}
	seed := filepath.Join(l.h.ImageDir, "ovnrun-c0-seed.iso")
	var dom libvirtxml.Domain
	err = l.driver(t).host("h0").do(context.Background(), func(lv *libvirt.Libvirt) error {
		d, err := lv.DomainLookupByName("c0")
		if err != nil {
			return err
		}
		doc, err := lv.DomainGetXMLDesc(d, 0)
		if err != nil {
			return err
		}
		return dom.Unmarshal(doc)
	})
	if err != nil {
		t.Fatal(err)
	}
	var cdrom string
	for _, d := range dom.Devices.Disks {
		if d.Device == "cdrom" && d.Source != nil && d.Source.File != nil {
			cdrom = d.Source.File.File
		}
	}
	if cdrom != seed {
		t.Errorf("CD-ROM %q, want the seed %s", cdrom, seed)
	}
	iso, err := os.ReadFile(seed)
	if err != nil || len(iso) < 32<<10 || string(iso[0x8001:0x8006]) != "CD001" {
		t.Errorf("seed %s: %d bytes, %v", seed, len(iso), err)
	}
	if cs, err := run(t, l.driver(t), evaluate(t, vm(good))); err != nil || ops(cs) != "unchanged vm/h0/c0" {
		t.Errorf("second run: %s, %v", ops(cs), err)
	}
	// Another seed is a change of the VM.
	other := strings.Replace(vm(good), `"user": "cloud"`, `"user": "admin"`, 1)
	if cs, _ := run(t, l.driver(t), evaluate(t, other)); len(cs) != 1 || len(cs[0].Diffs) != 1 || cs[0].Diffs[0].Key != "cloud_init" {
		t.Errorf("changed seed planned as %+v", cs)
	}

	d := l.driver(t)
	dcs, err := d.PlanDestroy(context.Background(), evaluate(t, vm(good)).Steps[0].Actions)
	if err != nil {
		t.Fatal(err)
	}
	if err := engine.ApplyChanges(context.Background(), map[string]interp.Driver{DriverName: d},
		[]interp.StepChanges{{Step: &interp.Step{Name: "destroy"}, Changes: dcs}}, io.Discard); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(seed); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("seed after destroy: %v", err)
	}
}
