// Package console is the terminal channel behind `tend chat`: one message
// per input line, replies printed with buttons as numbered options (typing
// the number presses the button), so it can be scripted as well as used.
package console

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/internal/httpserver"
)

// Channel is the console channel's name.
const Channel = "console"

// Session is one terminal conversation.
type Session struct {
	Engine *bot.Engine
	In     io.Reader
	Out    io.Writer
	// Prompt is printed before each line when the input is a terminal.
	Prompt string
	Locale string
	// ChatID names the conversation; empty starts a new one.
	ChatID string

	buttons []bot.Button
}

// Run reads lines until end of input or ctx ends.
func (s *Session) Run(ctx context.Context) error {
	if s.ChatID == "" {
		s.ChatID = "console-" + httpserver.RandomToken(8)
	}
	sc := bufio.NewScanner(s.In)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for {
		if s.Prompt != "" {
			fmt.Fprint(s.Out, s.Prompt)
		}
		if !sc.Scan() {
			break
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		if err := s.send(ctx, line); err != nil {
			return err
		}
	}
	if s.Prompt != "" {
		fmt.Fprintln(s.Out)
	}
	return sc.Err()
}

func (s *Session) send(ctx context.Context, line string) error {
	// A random id, not a count: a later session on the same ChatID counting
	// from 1 again would be taken for repeats and given the old replies.
	in := bot.Inbound{Channel: Channel, ChatID: s.ChatID, SenderID: s.ChatID,
		MessageID: s.ChatID + "-" + httpserver.RandomToken(8), Text: line, Locale: s.Locale}
	// A number pressing one of the last message's buttons.
	if n, err := strconv.Atoi(line); err == nil && n >= 1 && n <= len(s.buttons) {
		in.Text, in.Payload = s.buttons[n-1].Label, s.buttons[n-1].Payload
	}
	out, err := s.Engine.Handle(ctx, in)
	if err != nil {
		return err
	}
	s.buttons = nil
	for _, r := range out.Replies {
		Render(s.Out, r.Reply)
		if len(r.Buttons) > 0 {
			s.buttons = r.Buttons
		}
	}
	return nil
}

// Render prints one reply as plain text with numbered options.
func Render(w io.Writer, r bot.Reply) {
	if r.From != "" {
		fmt.Fprintf(w, "%s: ", r.From)
	}
	fmt.Fprintln(w, r.Text)
	for _, l := range r.Links {
		fmt.Fprintf(w, "  %s: %s\n", l.Label, l.URL)
	}
	for i, b := range r.Buttons {
		fmt.Fprintf(w, "  %d) %s\n", i+1, b.Label)
	}
}
