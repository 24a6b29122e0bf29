// Package graph is the Microsoft Graph adapter: the few calls an MFA reset
// makes in Entra ID, with plain net/http (the generated msgraph-sdk-go is a
// very large module for five endpoints).
//
//	GET    /users/{upn}?$select=id,displayName,userPrincipalName,accountEnabled
//	GET    /users/{id}?$select=signInActivity          (AuditLog.Read.All; without it the last sign-in is unknown)
//	GET    /users/{id}/authentication/methods
//	DELETE /users/{id}/authentication/{microsoftAuthenticator,fido2,phone,softwareOath,temporaryAccessPass}Methods/{id}
//	POST   /users/{id}/revokeSignInSessions
//	POST   /users/{id}/authentication/temporaryAccessPassMethods
//
// Tokens come from azidentity (client secret or certificate of an app
// registration, for https://graph.microsoft.com/.default), or from any
// TokenSource (tests and the demo, against the fake in graphtest). The app
// needs the application permissions UserAuthenticationMethod.ReadWrite.All
// and User.Read.All; a 403 becomes triage.ErrDirectoryForbidden with the
// permission named, a 404 for a user triage.ErrNoSuchUser. Removing a
// method that is already gone (404) succeeds: a retried reset removes
// nothing more.
//
// 429 and 503 wait as long as Graph asks (Retry-After), other 5xx back off
// exponentially with full jitter, the way the Jira adapter does (package
// httpretry); a POST is repeated only when Graph cannot have acted on it
// (429, 503 with Retry-After, a failed dial). Every call is logged with
// Graph's request-id and the client-request-id sent; never with the token,
// the user's name or a Temporary Access Pass.
package graph
