import { useMutation, useQuery } from "@tanstack/react-query";
import { useState } from "react";

import { exportsApi } from "../api/endpoints";
import { useSubmissionKeys } from "../api/idempotency";
import type { ExportFormat, ExportRequest } from "../api/types";
import { messageOf } from "../ui/forms";
import { useToast } from "../ui/toast";

const POLL_MILLISECONDS = 1000;

type ExportFilters = Omit<ExportRequest, "format">;

/** Hands the browser a file fetched with the session's token (a plain link would carry none). */
export async function saveToDisk(id: string): Promise<void> {
  const { blob, filename } = await exportsApi.download(id);
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  link.click();
  window.setTimeout(() => {
    URL.revokeObjectURL(url);
  }, 10_000);
}

/** Export the tasks shown (same filters) as CSV or JSON; built in the background, then offered. */
export function ExportControl({ filters }: { filters: ExportFilters }) {
  const [format, setFormat] = useState<ExportFormat>("csv");
  const [exportId, setExportId] = useState<string | null>(null);
  const toast = useToast();

  const keys = useSubmissionKeys();
  const start = useMutation({
    mutationFn: () => {
      const request = { ...filters, format };
      return exportsApi.request(request, keys.keyFor(request));
    },
    onSuccess: (answer) => {
      keys.done();
      setExportId(answer.data.id);
    },
    onError: (error) => {
      toast.show(messageOf(error), "error");
    },
  });
  const job = useQuery({
    queryKey: ["exports", exportId],
    queryFn: async ({ signal }) => (await exportsApi.get(exportId ?? "", signal)).data,
    enabled: exportId !== null,
    refetchInterval: (query) => {
      const status = query.state.data?.status;
      return status === "done" || status === "failed" ? false : POLL_MILLISECONDS;
    },
  });
  const download = useMutation({
    mutationFn: saveToDisk,
    onError: (error) => {
      toast.show(messageOf(error), "error");
    },
  });

  const status = exportId === null ? null : (job.data?.status ?? "queued");
  const busy = start.isPending || status === "queued" || status === "running";

  return (
    <div className="export-control" role="group" aria-label="Export these tasks">
      <label htmlFor="export-format" className="visually-hidden">
        Export format
      </label>
      <select
        id="export-format"
        value={format}
        onChange={(event) => {
          setFormat(event.target.value as ExportFormat);
        }}
      >
        <option value="csv">CSV</option>
        <option value="json">JSON</option>
      </select>
      <button type="button" className="button-secondary" disabled={busy} onClick={() => start.mutate()}>
        Export
      </button>
      <span aria-live="polite" className="export-status">
        {busy && "Preparing the export…"}
        {status === "failed" && `The export failed. ${job.data?.error ?? "Try again."}`}
      </span>
      {status === "done" && exportId !== null && (
        <button type="button" onClick={() => download.mutate(exportId)} disabled={download.isPending}>
          Download {job.data?.rowCount ?? 0} {job.data?.rowCount === 1 ? "task" : "tasks"}
        </button>
      )}
    </div>
  );
}
