DROP TABLE webhook_deliveries;
DROP TABLE webhooks;
DROP TABLE client_requests;
DROP TABLE api_clients;
