package shellrec

import (
	"context"
	"os"
	osexec "os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ovnrun/ovnrun/internal/daemons"
	"github.com/ovnrun/ovnrun/internal/nbscratch"
)

// A real bash run: variables, $(...) capturing ovn-nbctl's real output from
// the private NB (whatever --db the script names), a here-doc, a loop, the
// lines recorded; and nothing outside the script's directory changed.
func TestRunRecords(t *testing.T) {
	daemons.Require(t, "ovsdb-server", "ovsdb-tool", "ovn-nbctl", "unshare")
	dir := t.TempDir()
	nb, err := nbscratch.Start(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer nb.Stop()
	outside := filepath.Join(t.TempDir(), "touched")
	script := filepath.Join(t.TempDir(), "node.sh")
	err = os.WriteFile(script, []byte(`name=h1
ovn-nbctl --db=tcp:177.1.1.1:6641 --wait=sb ls-add ls1
uuid=$(ovn-nbctl -t 5 --bare --columns=_uuid find Logical_Switch name=ls1)
ovs-vsctl set interface x external-ids:switch=$uuid
for i in 1 2; do
	systemctl start unit$i
done
cat <<EOF > nic.xml
<target dev='${name}_v0'/>
EOF
virsh attach-device v0 nic.xml
echo rewritten > nic.xml
touch `+outside+` || echo "cannot touch" >&2
id=$(ovs-vsctl get Open_vSwitch . external_ids:system-id)
echo "[$id]" >&2
exit 3
`), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := New(dir, nb.Sock)
	if err != nil {
		t.Fatal(err)
	}
	res, err := rec.Run(context.Background(), Script{Path: script, Host: "h1"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != 3 || !strings.Contains(res.Stderr, "cannot touch") || !strings.Contains(res.Stderr, `[""]`) {
		t.Errorf("status %d, stderr %q", res.Status, res.Stderr)
	}
	if _, err := os.Stat(outside); err == nil {
		t.Errorf("the script changed %s, outside its directory", outside)
	}
	out, err := osexec.Command("ovn-nbctl", "--db="+nb.Addr, "--bare", "--columns=_uuid", "find", "Logical_Switch", "name=ls1").Output()
	uuid := strings.TrimSpace(string(out))
	if err != nil || uuid == "" {
		t.Fatalf("ls1 is not in the private NB: %q %v", uuid, err)
	}
	var got []string
	for _, r := range res.Records {
		got = append(got, strings.Join(append([]string{r.Where()}, r.Argv...), " "))
	}
	want := []string{
		"node.sh:2 ovn-nbctl --db=tcp:177.1.1.1:6641 --wait=sb ls-add ls1",
		"node.sh:3 ovn-nbctl -t 5 --bare --columns=_uuid find Logical_Switch name=ls1",
		"node.sh:4 ovs-vsctl set interface x external-ids:switch=" + uuid,
		"node.sh:6 systemctl start unit1",
		"node.sh:6 systemctl start unit2",
		"node.sh:11 virsh attach-device v0 nic.xml",
		"node.sh:14 ovs-vsctl get Open_vSwitch . external_ids:system-id",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("records:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(res.Records) > 5 && res.Records[5].Files["nic.xml"] != "<target dev='h1_v0'/>" {
		t.Errorf("the attach-device record kept %q", res.Records[5].Files)
	}
}
