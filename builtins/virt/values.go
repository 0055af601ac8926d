package virt

import (
	"fmt"
	"net/url"
	"path"
	"strings"

	"go.starlark.net/starlark"

	"github.com/ovnrun/ovnrun/interp"
)

// VM is the handle vm() returns: a libvirt domain on one host. It implements
// interp.Guest, so ping() can run in it.
type VM struct {
	Name string
	Host *interp.Host
	ID   string // the vm action that declares it
	// nics are the ports attach() plugged in, in order: logical port
	// handles or iface-id strings.
	nics []starlark.Value
}

var (
	_ interp.Guest      = (*VM)(nil)
	_ starlark.HasAttrs = (*VM)(nil)
)

func (v *VM) String() string        { return fmt.Sprintf("vm(%q, host=%q)", v.Name, v.Host.Name) }
func (v *VM) Type() string          { return "vm" }
func (v *VM) Freeze()               {}
func (v *VM) Truth() starlark.Bool  { return starlark.True }
func (v *VM) Hash() (uint32, error) { return starlark.String(v.ID).Hash() }

// GuestID implements interp.Guest.
func (v *VM) GuestID() string { return v.ID }

// GuestName implements interp.Guest.
func (v *VM) GuestName() string { return v.Name }

// GuestHost implements interp.Guest.
func (v *VM) GuestHost() *interp.Host { return v.Host }

// AttrNames implements starlark.HasAttrs.
func (v *VM) AttrNames() []string { return []string{"host", "name", "nics"} }

// Attr implements starlark.HasAttrs. nics is a fresh list each time, so a
// runbook cannot change the VM's NICs behind attach()'s back.
func (v *VM) Attr(name string) (starlark.Value, error) {
	switch name {
	case "name":
		return starlark.String(v.Name), nil
	case "host":
		return v.Host, nil
	case "nics":
		return starlark.NewList(append([]starlark.Value(nil), v.nics...)), nil
	}
	return nil, nil
}

// domainName is an Unpacker for a libvirt domain name as ovnrun accepts it:
// letters, digits, '.', '_' and '-', so it also works as a file name for
// the VM's disk and as part of action IDs.
type domainName string

func (n *domainName) Unpack(v starlark.Value) error {
	s, ok := starlark.AsString(v)
	if !ok {
		return fmt.Errorf("got %s, want string", v.Type())
	}
	if s == "" || len(s) > 64 {
		return fmt.Errorf("VM name %q must be 1 to 64 characters long", s)
	}
	if strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != "" {
		return fmt.Errorf("VM name %q: only letters, digits, '.', '_' and '-' are allowed", s)
	}
	*n = domainName(s)
	return nil
}

// digest is an Unpacker for a SHA-256 digest in hex, kept in lower case.
type digest string

func (d *digest) Unpack(v starlark.Value) error {
	s, ok := starlark.AsString(v)
	if !ok {
		return fmt.Errorf("got %s, want string", v.Type())
	}
	s = strings.TrimPrefix(strings.ToLower(s), "sha256:")
	if len(s) != 64 || strings.Trim(s, "0123456789abcdef") != "" {
		return fmt.Errorf("%q is not a SHA-256 digest (64 hex digits, as sha256sum prints)", s)
	}
	*d = digest(s)
	return nil
}

// image is an Unpacker for a file the VM boots from (a disk image, a kernel,
// an initrd): an http(s) URL the host downloads, a file:// URL naming a file
// on the machine running ovnrun (uploaded to the host), or an absolute path
// on the VM's host.
type image string

func (im *image) Unpack(v starlark.Value) error {
	s, ok := starlark.AsString(v)
	if !ok {
		return fmt.Errorf("got %s, want URL or path string", v.Type())
	}
	if strings.ContainsAny(s, "\x00\n") {
		return fmt.Errorf("image %q contains a NUL or newline", s)
	}
	if strings.HasPrefix(s, "/") {
		*im = image(s)
		return nil
	}
	u, err := url.Parse(s)
	switch {
	case err == nil && u.Scheme == "file" && (u.Host == "" || u.Host == "localhost") && strings.HasPrefix(u.Path, "/") && u.RawQuery == "":
	case err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && u.Path != "":
	default:
		return fmt.Errorf("image %q: want an http:// or https:// URL, a file:///PATH on this machine, or an absolute path on the host", s)
	}
	if path.Base(u.Path) == "/" || path.Base(u.Path) == "." {
		return fmt.Errorf("image %q: the URL names no file", s)
	}
	*im = image(s)
	return nil
}
