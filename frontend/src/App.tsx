import { Link, Route, Routes } from "react-router";

import { OpsPage } from "./admin/OpsPage";
import { UsersPage } from "./admin/UsersPage";
import { AccountPage } from "./auth/AccountPage";
import { LoginPage, RegisterPage } from "./auth/AuthPages";
import { RequireAdmin, RequireAuth, SignedOutOnly } from "./auth/guards";
import { ProjectPage } from "./projects/ProjectPage";
import { ExportPage } from "./tasks/ExportPage";
import { AllTasksPage, AssignedPage, DashboardPage } from "./tasks/pages";
import { Layout } from "./ui/Layout";
import { Page } from "./ui/Page";

function NotFoundPage() {
  return (
    <Page title="Page not found">
      <p>
        There's nothing here. <Link to="/">Back to your tasks</Link>
      </p>
    </Page>
  );
}

export function App() {
  return (
    <Routes>
      <Route element={<Layout />}>
        <Route
          path="/login"
          element={
            <SignedOutOnly>
              <LoginPage />
            </SignedOutOnly>
          }
        />
        <Route
          path="/register"
          element={
            <SignedOutOnly>
              <RegisterPage />
            </SignedOutOnly>
          }
        />
        <Route
          index
          element={
            <RequireAuth>
              <DashboardPage />
            </RequireAuth>
          }
        />
        <Route
          path="/assigned"
          element={
            <RequireAuth>
              <AssignedPage />
            </RequireAuth>
          }
        />
        <Route
          path="/projects/:projectId"
          element={
            <RequireAuth>
              <ProjectPage />
            </RequireAuth>
          }
        />
        <Route
          path="/exports/:exportId"
          element={
            <RequireAuth>
              <ExportPage />
            </RequireAuth>
          }
        />
        <Route
          path="/account"
          element={
            <RequireAuth>
              <AccountPage />
            </RequireAuth>
          }
        />
        <Route
          path="/admin/tasks"
          element={
            <RequireAdmin>
              <AllTasksPage />
            </RequireAdmin>
          }
        />
        <Route
          path="/admin/users"
          element={
            <RequireAdmin>
              <UsersPage />
            </RequireAdmin>
          }
        />
        <Route
          path="/admin/operations"
          element={
            <RequireAdmin>
              <OpsPage />
            </RequireAdmin>
          }
        />
        <Route path="*" element={<NotFoundPage />} />
      </Route>
    </Routes>
  );
}
