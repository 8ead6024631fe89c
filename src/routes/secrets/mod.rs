//! Codespaces secrets at three levels (organization, repository, user), in GitHub's REST
//! shapes: one module per level for authorization and documentation, one flow they share.

mod answer;
mod flow;
mod org;
mod repo;
mod user;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

/// Every secrets route, with its documentation.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(org::list_org_secrets))
        .routes(routes!(org::org_public_key))
        .routes(routes!(
            org::get_org_secret,
            org::put_org_secret,
            org::delete_org_secret
        ))
        .routes(routes!(
            org::list_org_secret_repos,
            org::set_org_secret_repos
        ))
        .routes(routes!(
            org::add_org_secret_repo,
            org::remove_org_secret_repo
        ))
        .routes(routes!(repo::list_repo_secrets))
        .routes(routes!(repo::repo_public_key))
        .routes(routes!(
            repo::get_repo_secret,
            repo::put_repo_secret,
            repo::delete_repo_secret
        ))
        .routes(routes!(user::list_user_secrets))
        .routes(routes!(user::user_public_key))
        .routes(routes!(
            user::get_user_secret,
            user::put_user_secret,
            user::delete_user_secret
        ))
        .routes(routes!(
            user::list_user_secret_repos,
            user::set_user_secret_repos
        ))
        .routes(routes!(
            user::add_user_secret_repo,
            user::remove_user_secret_repo
        ))
}
