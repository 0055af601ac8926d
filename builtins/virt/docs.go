package virt

// The documentation `ovnrun doc` prints for each builtin.

const vmDoc = `Declares a VM (a libvirt domain) called name on host, as the seed's virt-install does, and returns
its handle (attributes name, host and nics) for attach() and ping(). image is the disk to boot: an
http:// or https:// URL that the host downloads, a file:///PATH on the machine running ovnrun that
is uploaded to the host, or an absolute path on the host. URLs land once in the host's image
directory (the libvirt storage pool "ovnrun"), so later and resumed runs fetch nothing; each VM gets
its own qcow2 disk on top of the image, made once; disk_gib grows that disk, or without image makes
a blank one. sha256 is the image's digest as sha256sum prints it (an optional "sha256:" prefix is
dropped): before the VM is defined the image is checked, and one that differs is an error naming the
image and both digests, its downloaded copy removed and nothing defined. cloud_init is a dict for a
stock cloud image's first boot (cloud-init's NoCloud source): user (an account with passwordless
sudo; without it the image's default user), ssh_keys (OpenSSH public key lines: a string of one or
more, as read_file() gives of a .pub or authorized_keys file, or a list), hostname (default: the
VM's name) and packages (installed on first boot; "qemu-guest-agent" is also started, so that ping()
and exec() reach the guest through its agent). ovnrun writes the seed, an ISO 9660 volume labelled
cidata, to the host's image directory and attaches it as a CD-ROM; a changed seed is a change of the
VM. kernel, initrd (same forms as image) and cmdline boot a kernel directly, with or without a disk,
as the test guest of scripts/build-guest-kit.sh does. vcpus (1..256, default 1) and memory_mib (at
least 64, default 1024) size the VM; domain_type forces "kvm" or "qemu" (unset: kvm when the host
has hardware virtualization and libvirt offers kvm, else qemu emulation); os_variant is an osinfo
short ID such as "rhel8.4", recorded with the domain. The domain carries ovnrun's ownership
metadata: a domain of that name that ovnrun did not create is refused, a differing one is changed
only with --recreate-vms, and destroy removes only ovnrun's domains and their disks. The name is
unique per host, so two hypervisors can each have a v0 as in the seed; the plan shows the VM as vm
<host>/<name>.`

const attachDoc = `Plugs a NIC into vm on its host's OVS bridge (default br-int) with virtualport type openvswitch,
as the seed's virsh attach-device and ovs-vsctl set interface ... external-ids:iface-id do, binding it
to an OVN logical switch port. port is a logical switch port handle: the NIC takes its MAC, and its
name becomes external_ids:iface-id, so the port, the NIC and the binding cannot disagree (mac= is
refused as redundant). port can instead be an iface-id string, for a port OVN does not declare here;
mac= is then required. dev is the NIC's name on the host (default: the port name; a Linux interface
name of at most 15 bytes, not starting with vnet, vif or macvtap, which libvirt keeps for itself). A
dev can be used once per host, and a MAC or iface-id once in the lab. The NIC is hot-plugged live and
persistent; a NIC with the same MAC, dev and bridge counts as attached, so a second run changes
nothing, and destroy detaches it. The plan shows vm, dev, mac, bridge and iface_id, applied after the
VM and the logical port.`
