import { useMutation, useQuery } from "@tanstack/react-query";
import { Link, useParams } from "react-router";

import { exportsApi } from "../api/endpoints";
import { messageOf } from "../ui/forms";
import { Failed, Loading, Page } from "../ui/Page";
import { useToast } from "../ui/toast";
import { saveToDisk } from "./ExportControl";

const POLL_MILLISECONDS = 1000;

/** The page an export-ready email links to: the download, with the person's own session. */
export function ExportPage() {
  const { exportId = "" } = useParams();
  const toast = useToast();
  const job = useQuery({
    queryKey: ["exports", exportId],
    queryFn: async ({ signal }) => (await exportsApi.get(exportId, signal)).data,
    refetchInterval: (query) => {
      const status = query.state.data?.status;
      return status === "queued" || status === "running" ? POLL_MILLISECONDS : false;
    },
  });
  const download = useMutation({
    mutationFn: () => saveToDisk(exportId),
    onError: (error) => {
      toast.show(messageOf(error), "error");
    },
  });

  let body;
  if (job.isPending) {
    body = <Loading>Loading the export…</Loading>;
  } else if (job.isError) {
    body = <Failed onRetry={() => void job.refetch()}>{messageOf(job.error)}</Failed>;
  } else if (job.data.status === "done") {
    const count = job.data.rowCount ?? 0;
    body = (
      <p>
        <button type="button" onClick={() => download.mutate()} disabled={download.isPending}>
          Download {count} {count === 1 ? "task" : "tasks"} ({job.data.format.toUpperCase()})
        </button>
      </p>
    );
  } else if (job.data.status === "failed") {
    body = <Failed>The export failed. {job.data.error ?? "Start a new one from your tasks."}</Failed>;
  } else {
    body = <Loading>Preparing the export…</Loading>;
  }
  return (
    <Page title="Your export">
      {body}
      <p>
        <Link to="/">Back to your tasks</Link>
      </p>
    </Page>
  );
}
