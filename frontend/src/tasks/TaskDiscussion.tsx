import { useState } from "react";

import { DISCUSSION_PAGE, useActivity, useAddComment, useComments, useDeleteComment } from "../api/queries";
import {
  PRIORITY_LABELS,
  STATUS_LABELS,
  type Activity,
  type Label,
  type TaskPriority,
  type TaskStatus,
} from "../api/types";
import { FormError, messageOf } from "../ui/forms";
import { Failed, Loading } from "../ui/Page";
import { useToast } from "../ui/toast";
import { COMMENT_MAX } from "./taskSchema";

interface DiscussionProps {
  taskId: string;
  me: string;
  canComment: boolean;
  canModerate: boolean;
  /** The task's project's labels, to name them in the activity. */
  labels: readonly Label[];
}

/** A task's comments and its activity trail, newest first. */
export function TaskDiscussion({ taskId, me, canComment, canModerate, labels }: DiscussionProps) {
  return (
    <div className="discussion">
      <Comments taskId={taskId} me={me} canComment={canComment} canModerate={canModerate} />
      <ActivityTrail taskId={taskId} labels={labels} />
    </div>
  );
}

function when(iso: string): string {
  return new Date(iso).toLocaleString();
}

function Comments({ taskId, me, canComment, canModerate }: Omit<DiscussionProps, "labels">) {
  const comments = useComments(taskId);
  const add = useAddComment(taskId);
  const remove = useDeleteComment(taskId);
  const toast = useToast();
  const [body, setBody] = useState("");
  const [error, setError] = useState("");
  const inputId = `comment-${taskId}`;

  const send = () => {
    const text = body.trim();
    if (text === "") {
      setError("Write something first");
      return;
    }
    if (text.length > COMMENT_MAX) {
      setError(`A comment is at most ${COMMENT_MAX} characters`);
      return;
    }
    setError("");
    add.mutate(text, {
      onSuccess: () => setBody(""),
      onError: (failure) => setError(messageOf(failure)),
    });
  };

  return (
    <section aria-labelledby={`${inputId}-heading`} className="comments">
      <h3 id={`${inputId}-heading`}>Comments</h3>
      {comments.isPending ? (
        <Loading>Loading comments…</Loading>
      ) : comments.isError ? (
        <Failed onRetry={() => void comments.refetch()}>Couldn't load comments: {messageOf(comments.error)}</Failed>
      ) : comments.data.data.length === 0 ? (
        <p className="state-empty">No comments yet.</p>
      ) : (
        <ul className="comment-list">
          {comments.data.data.map((comment) => (
            <li key={comment.id} className="comment" data-testid="comment">
              <p className="comment-meta">
                <strong>{comment.author.name}</strong>{" "}
                <time dateTime={comment.createdAt}>{when(comment.createdAt)}</time>
              </p>
              <p className="comment-body">{comment.body}</p>
              {(comment.author.id === me || canModerate) && (
                <button
                  type="button"
                  className="button-link"
                  disabled={remove.isPending}
                  onClick={() =>
                    remove.mutate(comment.id, { onError: (failure) => toast.show(messageOf(failure), "error") })
                  }
                >
                  Delete comment
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      {comments.data !== undefined && comments.data.total > DISCUSSION_PAGE && (
        <p className="field-hint">
          The latest {DISCUSSION_PAGE} of {comments.data.total} comments.
        </p>
      )}
      {canComment && (
        <div className="comment-form">
          <FormError message={error} />
          <label htmlFor={inputId}>Add a comment</label>
          <textarea
            id={inputId}
            rows={2}
            value={body}
            onChange={(event) => setBody(event.target.value)}
            aria-describedby={`${inputId}-hint`}
          />
          <p id={`${inputId}-hint`} className="field-hint">
            Mention a member by their email (@name@example.com) to send them a note.
          </p>
          <button type="button" onClick={send} disabled={add.isPending}>
            {add.isPending ? "Posting…" : "Post comment"}
          </button>
        </div>
      )}
    </section>
  );
}

function shown(value: unknown): string {
  if (value === null || value === undefined || value === "") return "nothing";
  if (typeof value === "string") {
    if (value in STATUS_LABELS) return STATUS_LABELS[value as TaskStatus];
    if (value in PRIORITY_LABELS) return PRIORITY_LABELS[value as TaskPriority];
    return value;
  }
  return JSON.stringify(value);
}

/** One line of the trail, in words. */
export function describe(entry: Activity, labels: readonly Label[]): string {
  const named = (ids: unknown) =>
    Array.isArray(ids) && ids.length > 0
      ? ids.map((id) => labels.find((label) => label.id === id)?.name ?? "a deleted label").join(", ")
      : "none";
  switch (entry.action) {
    case "created":
      return "created the task";
    case "changed":
      return `changed ${entry.field ?? "it"} from ${shown(entry.oldValue)} to ${shown(entry.newValue)}`;
    case "moved":
      return entry.field === "status"
        ? `moved it from ${shown(entry.oldValue)} to ${shown(entry.newValue)}`
        : "moved it to another project";
    case "assigned":
      return entry.newValue === null ? "unassigned it" : "assigned it";
    case "labelled":
      return `set its labels to ${named(entry.newValue)}`;
    case "commented":
      return "commented";
    case "completed":
      return "completed it; it comes back when it is next due";
  }
}

function ActivityTrail({ taskId, labels }: { taskId: string; labels: readonly Label[] }) {
  const activity = useActivity(taskId);
  return (
    <section aria-labelledby={`activity-${taskId}-heading`} className="activity">
      <h3 id={`activity-${taskId}-heading`}>Activity</h3>
      {activity.isPending ? (
        <Loading>Loading activity…</Loading>
      ) : activity.isError ? (
        <Failed onRetry={() => void activity.refetch()}>Couldn't load the activity: {messageOf(activity.error)}</Failed>
      ) : (
        <ol className="activity-list">
          {activity.data.data.map((entry) => (
            <li key={entry.id} data-testid="activity">
              <strong>{entry.actor?.name ?? "Someone"}</strong> {describe(entry, labels)}{" "}
              <time dateTime={entry.createdAt}>{when(entry.createdAt)}</time>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
