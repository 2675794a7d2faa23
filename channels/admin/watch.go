package admin

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
)

// debounce is how long the folder must be quiet before a sync: an editor's
// save or a git checkout is many events; one sync follows them all.
const debounce = 400 * time.Millisecond

// watcher syncs the knowledge folder when something outside the console
// changes it, within about a second.
type watcher struct {
	fw     *fsnotify.Watcher
	cancel context.CancelFunc
	done   chan struct{}
	once   sync.Once
}

func (m *Module) watch(ctx context.Context) (*watcher, error) {
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, err
	}
	// Subfolders too (documents may be filed in them); new ones are added
	// as they appear.
	err = filepath.WalkDir(m.kbDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != m.kbDir && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			return fw.Add(p)
		}
		return nil
	})
	if err != nil {
		_ = fw.Close()
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	w := &watcher{fw: fw, cancel: cancel, done: make(chan struct{})}
	go m.loop(ctx, w)
	return w, nil
}

func (m *Module) loop(ctx context.Context, w *watcher) {
	defer close(w.done)
	timer := time.NewTimer(0) // one sync at start: learn what fails to parse
	for {
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case ev, ok := <-w.fw.Events:
			if !ok {
				return
			}
			if ev.Has(fsnotify.Create) {
				if fi, err := statDir(ev.Name); err == nil && fi && !strings.HasPrefix(filepath.Base(ev.Name), ".") {
					_ = w.fw.Add(ev.Name)
				}
			}
			if strings.HasPrefix(filepath.Base(ev.Name), ".") && !ev.Has(fsnotify.Rename) {
				continue // the console's own temporary files, editors' swap files
			}
			timer.Reset(debounce)
		case err, ok := <-w.fw.Errors:
			if !ok {
				return
			}
			m.log.WarnContext(ctx, "console: watching the knowledge folder", "error", err)
			timer.Reset(debounce) // an overflow may have lost events: sync to be sure
		case <-timer.C:
			m.sync.Lock() // not halfway through a console save
			m.sync.Unlock()
			if _, err := m.syncFolder(ctx); err != nil && ctx.Err() == nil {
				m.log.WarnContext(ctx, "console: sync after a change in the folder failed", "error", err)
			}
		}
	}
}

func (w *watcher) close() {
	w.once.Do(func() {
		w.cancel()
		_ = w.fw.Close()
		<-w.done
	})
}

func statDir(p string) (bool, error) {
	fi, err := os.Stat(p)
	if err != nil {
		return false, err
	}
	return fi.IsDir(), nil
}
