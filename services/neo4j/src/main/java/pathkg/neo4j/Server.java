package pathkg.neo4j;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;

import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.connectors.HttpConnector;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.io.ByteUnit;

/**
 * Starts a Neo4j Community DBMS in this JVM with only the Bolt connector, bound to loopback.
 *
 * <p>Usage: {@code Server HOME_DIR [PORT]} (port default 7687). Authentication is off: the server
 * listens on 127.0.0.1 only and exists for tests and local development. A {@code ready} file is
 * written under HOME_DIR once Bolt accepts connections; a shutdown hook stops the DBMS cleanly on
 * SIGTERM so the store is never left to recover.
 */
public final class Server {
    private Server() {}

    /** Page cache size in MiB: NEO4J_PAGECACHE_MB, default 512 (the test graphs are small). */
    private static long pageCacheMb() {
        String value = System.getenv("NEO4J_PAGECACHE_MB");
        return value == null || value.isBlank() ? 512 : Long.parseLong(value.trim());
    }

    public static void main(String[] args) throws IOException, InterruptedException {
        if (args.length < 1) {
            System.err.println("usage: Server HOME_DIR [PORT]");
            System.exit(2);
        }
        Path home = Path.of(args[0]).toAbsolutePath();
        int port = args.length > 1 ? Integer.parseInt(args[1]) : 7687;
        Files.createDirectories(home);
        Path ready = home.resolve("ready");
        Files.deleteIfExists(ready);

        DatabaseManagementService dbms = new DatabaseManagementServiceBuilder(home)
                .setConfig(BoltConnector.enabled, true)
                .setConfig(BoltConnector.listen_address, new SocketAddress("127.0.0.1", port))
                .setConfig(BoltConnector.advertised_address, new SocketAddress("127.0.0.1", port))
                .setConfig(HttpConnector.enabled, false)
                .setConfig(GraphDatabaseSettings.auth_enabled, false)
                .setConfig(GraphDatabaseSettings.pagecache_memory, ByteUnit.mebiBytes(pageCacheMb()))
                .build();
        // Touch the default database so a client's first query does not wait on its start.
        dbms.database(GraphDatabaseSettings.DEFAULT_DATABASE_NAME).executeTransactionally("RETURN 1");

        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            dbms.shutdown();
            try {
                Files.deleteIfExists(ready);
            } catch (IOException ignored) {
                // The file only signals readiness; a stale one is overwritten at the next start.
            }
            stopped.countDown();
        }, "neo4j-shutdown"));

        Files.writeString(ready, "bolt://127.0.0.1:" + port + "\n", StandardCharsets.UTF_8);
        System.out.println("neo4j ready on bolt://127.0.0.1:" + port + " (home " + home + ")");
        stopped.await();
    }
}
