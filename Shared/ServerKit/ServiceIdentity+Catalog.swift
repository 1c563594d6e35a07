/// The six processes of Customer 360, with the default ports from ARCHITECTURE.md.
extension ServiceIdentity {
    public static let gateway = ServiceIdentity(
        name: "gateway", environmentKey: "GATEWAY", defaultPort: 50050, databaseFileName: "gateway.sqlite")
    public static let profile = ServiceIdentity(
        name: "profile-service", environmentKey: "PROFILE", defaultPort: 50051, databaseFileName: "profile.sqlite")
    public static let interaction = ServiceIdentity(
        name: "interaction-service", environmentKey: "INTERACTION", defaultPort: 50052,
        databaseFileName: "interaction.sqlite")
    public static let feedback = ServiceIdentity(
        name: "feedback-service", environmentKey: "FEEDBACK", defaultPort: 50053, databaseFileName: "feedback.sqlite")
    public static let success = ServiceIdentity(
        name: "success-service", environmentKey: "SUCCESS", defaultPort: 50054, databaseFileName: "success.sqlite")
    public static let outreach = ServiceIdentity(
        name: "outreach-service", environmentKey: "OUTREACH", defaultPort: 50055, databaseFileName: "outreach.sqlite")
}
