package main

import (
	"sync"
	"syscall"

	"github.com/pam-totp/pam-totp/core/config"
)

// configCache keeps the configuration last read, so that a process that
// authenticates many times (a screen locker, a long-lived login program)
// parses the file once. The file is looked at on every call and read again
// whenever its identity, size or times change.
var configCache struct {
	sync.Mutex
	path string
	id   fileID
	cfg  config.Config
}

// fileID is what changes when a file is replaced or written.
type fileID struct {
	dev, ino     uint64
	size         int64
	mtime, ctime syscall.Timespec
}

// loadConfig returns the configuration in path, as config.Load does.
func loadConfig(path string) (*config.Config, error) {
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		// Missing (the defaults) or unreadable: config.Load says which.
		return config.Load(path)
	}
	id := fileID{dev: st.Dev, ino: st.Ino, size: st.Size, mtime: st.Mtim, ctime: st.Ctim}

	configCache.Lock()
	defer configCache.Unlock()
	if configCache.path == path && configCache.id == id {
		cfg := configCache.cfg
		return &cfg, nil
	}
	cfg, err := config.Load(path)
	if err != nil {
		configCache.path = ""
		return nil, err
	}
	configCache.path, configCache.id, configCache.cfg = path, id, *cfg
	return cfg, nil
}
