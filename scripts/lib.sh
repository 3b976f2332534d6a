# Shared by the before/after scripts (bench-ab.sh, bench-durable.sh):
# sourced, not run.

# base_tree BASE: a temporary directory $tmp (removed on exit) holding the
# tree of git revision BASE in $tmp/base, so that base and working tree
# can be built side by side.
base_tree() {
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	mkdir "$tmp/base"
	git archive "$1" | tar -x -C "$tmp/base"
}
