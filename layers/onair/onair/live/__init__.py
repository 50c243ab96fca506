"""Live channels: HLS linear playout assembled from a playout, with no servers (issue 12).

Pure core, no AWS: plain data in, text out. The run function resolves each item's HLS VOD playlist once
(`media.resolve`, through an injected `ports.Fetcher` and `ports.PlaylistCache`), builds a channel's
`timeline.Timeline` from its slots, splices it onto the one already published (`timeline.splice`) and stores
it as JSON; the live route loads that JSON once per (run, channel) and answers each poll with
`playlist.live_playlist`, a pure function of (timeline, now).
"""
