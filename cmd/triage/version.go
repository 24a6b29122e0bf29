package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// version says which build this is, from the build information Go records
// in the binary: the module version (a tag, or a pseudo-version made of
// the commit), the commit and its time, whether the tree had uncommitted
// changes, and the Go toolchain. A build without version control
// information (-buildvcs=false, as the image's) says so.
func version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return fmt.Sprintf("triage (no build information) %s %s/%s", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	}
	return versionOf(info)
}

func versionOf(info *debug.BuildInfo) string {
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	v := info.Main.Version
	if v == "" {
		v = "(devel)"
	}
	commit := "commit unknown (built without version control information)"
	if rev := settings["vcs.revision"]; rev != "" {
		commit = "commit " + rev
		if t := settings["vcs.time"]; t != "" {
			commit += " of " + t
		}
		if settings["vcs.modified"] == "true" {
			commit += ", with uncommitted changes"
		}
	}
	return fmt.Sprintf("triage %s, %s, %s %s/%s", v, commit, info.GoVersion, runtime.GOOS, runtime.GOARCH)
}
