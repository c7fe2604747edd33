/**
 * The type token of every resource type the program registers, in one place: the
 * lifecycle table, the guard, the policy pack, the offline plan and the tests read them
 * from here.
 */
export const TYPES = {
    droplet: "digitalocean:index/droplet:Droplet",
    vpc: "digitalocean:index/vpc:Vpc",
    project: "digitalocean:index/project:Project",
    firewall: "digitalocean:index/firewall:Firewall",
    cluster: "digitalocean:index/databaseCluster:DatabaseCluster",
    db: "digitalocean:index/databaseDb:DatabaseDb",
    dbUser: "digitalocean:index/databaseUser:DatabaseUser",
    pool: "digitalocean:index/databaseConnectionPool:DatabaseConnectionPool",
    dbFirewall: "digitalocean:index/databaseFirewall:DatabaseFirewall",
    lb: "digitalocean:index/loadBalancer:LoadBalancer",
    cert: "digitalocean:index/certificate:Certificate",
    reservedIp: "digitalocean:index/reservedIp:ReservedIp",
    reservedIpAssignment: "digitalocean:index/reservedIpAssignment:ReservedIpAssignment",
    dns: "digitalocean:index/dnsRecord:DnsRecord",
    alert: "digitalocean:index/monitorAlert:MonitorAlert",
    uptime: "digitalocean:index/uptimeCheck:UptimeCheck",
    uptimeAlert: "digitalocean:index/uptimeAlert:UptimeAlert",
    spacesBucket: "digitalocean:index/spacesBucket:SpacesBucket",
    tailnetKey: "tailscale:index/tailnetKey:TailnetKey",
    container: "docker:index/container:Container",
    remoteImage: "docker:index/remoteImage:RemoteImage",
    dockerNetwork: "docker:index/network:Network",
    volume: "docker:index/volume:Volume",
    command: "command:local:Command",
    environment: "github:index/repositoryEnvironment:RepositoryEnvironment",
    envPolicy: "github:index/repositoryEnvironmentDeploymentPolicy:RepositoryEnvironmentDeploymentPolicy",
    envSecret: "github:index/actionsEnvironmentSecret:ActionsEnvironmentSecret",
    envVariable: "github:index/actionsEnvironmentVariable:ActionsEnvironmentVariable",
} as const;
