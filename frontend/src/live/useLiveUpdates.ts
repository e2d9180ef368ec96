import { useQueryClient } from "@tanstack/react-query";
import { useEffect } from "react";

import { eventsApi } from "../api/endpoints";
import { EVERYTHING, LIVE_EVENT_TYPES, parseLiveEvent, reconnectDelay, staleKeys } from "./liveEvents";

/** Changes within this long are read again together: a burst of events costs one refetch. */
const COALESCE_MS = 150;

/**
 * One event stream per tab while signed in: each event marks what it changed as stale, so lists,
 * the board and an open task dialog read it again. The stream opens with a single-use ticket
 * (EventSource can't send the access token, which must not sit in a URL); when it drops, it is
 * opened again with backoff, from the last event seen.
 */
export function useLiveUpdates(signedIn: boolean) {
  const client = useQueryClient();

  useEffect(() => {
    if (!signedIn || typeof EventSource === "undefined") {
      return;
    }
    let source: EventSource | null = null;
    let retry: ReturnType<typeof setTimeout> | undefined;
    let flush: ReturnType<typeof setTimeout> | undefined;
    let failures = 0;
    let lastEventId: string | null = null;
    let stopped = false;
    const stale = new Map<string, readonly string[]>();

    const markStale = (keys: (readonly string[])[]) => {
      for (const key of keys) {
        stale.set(JSON.stringify(key), key);
      }
      flush ??= setTimeout(() => {
        flush = undefined;
        for (const key of stale.values()) {
          void client.invalidateQueries({ queryKey: key });
        }
        stale.clear();
      }, COALESCE_MS);
    };

    const reconnectLater = () => {
      source?.close();
      source = null;
      if (stopped) {
        return;
      }
      failures += 1;
      retry = setTimeout(() => void connect(), reconnectDelay(failures));
    };

    const connect = async () => {
      let ticket: string;
      try {
        ticket = (await eventsApi.ticket()).data.ticket;
      } catch {
        reconnectLater();
        return;
      }
      if (stopped) {
        return;
      }
      const query = new URLSearchParams({ ticket });
      if (lastEventId !== null) {
        query.set("lastEventId", lastEventId);
      }
      const opened = new EventSource(`/api/v1/events?${query.toString()}`);
      source = opened;
      opened.onopen = () => {
        failures = 0;
      };
      const onEvent = (message: MessageEvent<string>) => {
        lastEventId = message.lastEventId || lastEventId;
        const event = parseLiveEvent(message.data);
        if (event !== null) {
          markStale(staleKeys(event));
        }
      };
      for (const type of LIVE_EVENT_TYPES) {
        opened.addEventListener(type, onEvent);
      }
      opened.addEventListener("resync", () => {
        markStale(EVERYTHING);
      });
      // The ticket is spent: the browser's own retry would be refused, so reconnect here.
      opened.onerror = reconnectLater;
    };

    void connect();
    return () => {
      stopped = true;
      clearTimeout(retry);
      clearTimeout(flush);
      source?.close();
    };
  }, [signedIn, client]);
}
